/* TEST-ONLY stand-in for Windows' icuuc.dll under Wine 8 (see README.md). Never shipped. */
#include <windows.h>
#include <string.h>

#define U_FILE_ACCESS_ERROR 4
typedef int UErrorCode;

static void fail(UErrorCode *err) { if (err && *err <= 0) *err = U_FILE_ACCESS_ERROR; }

__declspec(dllexport) void *ucnv_open(const char *name, UErrorCode *err) { (void)name; fail(err); return NULL; }
__declspec(dllexport) void ucnv_close(void *cnv) { (void)cnv; }
__declspec(dllexport) void UCNV_FROM_U_CALLBACK_SUBSTITUTE(void) {}
__declspec(dllexport) void UCNV_TO_U_CALLBACK_SUBSTITUTE(void) {}
__declspec(dllexport) void ucnv_reset(void *cnv) { (void)cnv; }
__declspec(dllexport) signed char ucnv_getMaxCharSize(const void *cnv) { (void)cnv; return 1; }
__declspec(dllexport) const char *ucnv_getName(const void *cnv, UErrorCode *err) { (void)cnv; fail(err); return ""; }
__declspec(dllexport) void ucnv_getToUCallBack(const void *c, void **a, const void **b) { (void)c; if (a) *a = NULL; if (b) *b = NULL; }
__declspec(dllexport) void ucnv_getFromUCallBack(const void *c, void **a, const void **b) { (void)c; if (a) *a = NULL; if (b) *b = NULL; }
__declspec(dllexport) void ucnv_setToUCallBack(void *c, void *n, const void *nc, void **o, const void **oc, UErrorCode *err) { (void)c; (void)n; (void)nc; (void)o; (void)oc; fail(err); }
__declspec(dllexport) void ucnv_setFromUCallBack(void *c, void *n, const void *nc, void **o, const void **oc, UErrorCode *err) { (void)c; (void)n; (void)nc; (void)o; (void)oc; fail(err); }
__declspec(dllexport) void ucnv_cbToUWriteUChars(void *a, const void *s, int l, int o, UErrorCode *err) { (void)a; (void)s; (void)l; (void)o; fail(err); }
__declspec(dllexport) void ucnv_cbFromUWriteUChars(void *a, const void **s, const void *l, int o, UErrorCode *err) { (void)a; (void)s; (void)l; (void)o; fail(err); }
__declspec(dllexport) void ucnv_toUnicode(void *c, void **t, const void *tl, const char **s, const char *sl, int *o, signed char f, UErrorCode *err) { (void)c; (void)t; (void)tl; (void)s; (void)sl; (void)o; (void)f; fail(err); }
__declspec(dllexport) void ucnv_fromUnicode(void *c, char **t, const char *tl, const void **s, const void *sl, int *o, signed char f, UErrorCode *err) { (void)c; (void)t; (void)tl; (void)s; (void)sl; (void)o; (void)f; fail(err); }
__declspec(dllexport) int ucnv_toUCountPending(const void *c, UErrorCode *err) { (void)c; fail(err); return 0; }
__declspec(dllexport) int ucnv_fromUCountPending(const void *c, UErrorCode *err) { (void)c; fail(err); return 0; }
__declspec(dllexport) const char *ucnv_getStandardName(const char *n, const char *s, UErrorCode *err) { (void)n; (void)s; fail(err); return NULL; }
__declspec(dllexport) const char *ucnv_getAvailableName(int i) { (void)i; return NULL; }
__declspec(dllexport) int ucnv_countAvailable(void) { return 0; }

/* Wine 8's ucrtbase leaves these as aborting stubs; Windows x64 ABI bodies:
   _Fcomplex (8 bytes) arrives in RCX, _Dcomplex/_Lcomplex (16 bytes) by pointer in RCX; result in XMM0. */
static const unsigned char CREALF[] = {0x66, 0x0F, 0x6E, 0xC1, 0xC3};                         /* movd xmm0,ecx; ret */
static const unsigned char CIMAGF[] = {0x48, 0xC1, 0xE9, 0x20, 0x66, 0x0F, 0x6E, 0xC1, 0xC3}; /* shr rcx,32; movd; ret */
static const unsigned char CREAL_P[] = {0xF2, 0x0F, 0x10, 0x01, 0xC3};                        /* movsd xmm0,[rcx]; ret */
static const unsigned char CIMAG_P[] = {0xF2, 0x0F, 0x10, 0x41, 0x08, 0xC3};                  /* movsd xmm0,[rcx+8]; ret */

static void patch(HMODULE crt, const char *name, const unsigned char *code, SIZE_T n) {
    BYTE *p = (BYTE *)GetProcAddress(crt, name);
    DWORD old;
    if (!p || !VirtualProtect(p, n, PAGE_EXECUTE_READWRITE, &old)) return;
    memcpy(p, code, n);
    VirtualProtect(p, n, old, &old);
    FlushInstructionCache(GetCurrentProcess(), p, n);
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved) {
    (void)inst; (void)reserved;
    if (reason == DLL_PROCESS_ATTACH) {
        HMODULE ntdll = GetModuleHandleA("ntdll.dll");
        HMODULE crt = GetModuleHandleA("ucrtbase.dll");
        if (ntdll && GetProcAddress(ntdll, "wine_get_version") && crt) {
            patch(crt, "crealf", CREALF, sizeof CREALF);
            patch(crt, "cimagf", CIMAGF, sizeof CIMAGF);
            patch(crt, "cimag", CIMAG_P, sizeof CIMAG_P);
            patch(crt, "creall", CREAL_P, sizeof CREAL_P);
            patch(crt, "cimagl", CIMAG_P, sizeof CIMAG_P);
        }
    }
    return TRUE;
}
