/* Force-included (-include) into llama.cpp's C sources for the MinGW-w64 cross build (installer/build.py).
 * ggml-cpu.c (llama.cpp vendored by llama-cpp-python 0.3.36) disables thread power throttling through
 * SetThreadInformation(ThreadPowerThrottling, THREAD_POWER_THROTTLING_STATE) when _WIN32_WINNT >= 0x0602;
 * Debian 12's MinGW-w64 headers declare SetThreadInformation and ThreadPowerThrottling but not the
 * structure or its constants. Values from the Windows SDK's processthreadsapi.h. */
#ifndef MAGNUS_LLAMA_COMPAT_H
#define MAGNUS_LLAMA_COMPAT_H
#if defined(_WIN32) && !defined(THREAD_POWER_THROTTLING_CURRENT_VERSION)
#define THREAD_POWER_THROTTLING_CURRENT_VERSION 1
#define THREAD_POWER_THROTTLING_EXECUTION_SPEED 0x1
#define THREAD_POWER_THROTTLING_VALID_FLAGS (THREAD_POWER_THROTTLING_EXECUTION_SPEED)
typedef struct _THREAD_POWER_THROTTLING_STATE {
    unsigned long Version;
    unsigned long ControlMask;
    unsigned long StateMask;
} THREAD_POWER_THROTTLING_STATE;
#endif
#endif
