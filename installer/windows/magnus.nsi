; Magnus Desktop — per-user Windows installer (NSIS 3, 64-bit, no admin rights).
; Built by installer/build.py --target windows:
;   makensis [-DFASTCOMPRESS] -DVERSION=0.1.0 -DSRCDIR=<bundle folder> -DOUTFILE=<setup.exe> -DICON=<magnus.ico> magnus.nsi
; Silent: setup.exe /S [/D=C:\path]   Uninstall: uninstall.exe /S [/REMOVEDATA]
; The uninstaller keeps the user's settings, database and logs unless "Remove my data" is ticked
; (or /REMOVEDATA is given).

Unicode true
Target amd64-unicode
ManifestDPIAware true
RequestExecutionLevel user
!ifdef NOCOMPRESS
  SetCompress off            ; test installers only (smoke_windows.py's version N-1): fast to build
!else ifdef FASTCOMPRESS
  SetCompressor zlib         ; quick local builds (build.py --fast-compress): ~1 min instead of ~5, a bigger file
!else
  SetCompressor /SOLID lzma  ; releases and CI
!endif

!define APPNAME "Magnus Desktop"
!define EXENAME "MagnusDesktop"
!define PUBLISHER "Magnus"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${EXENAME}"
!define RUNKEY "Software\Microsoft\Windows\CurrentVersion\Run"
; platformdirs' user_data_dir/user_config_dir("MagnusDesktop", "Magnus") on Windows
!define DATADIR "$LOCALAPPDATA\${PUBLISHER}\${EXENAME}"

!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "x64.nsh"

Name "${APPNAME} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${APPNAME}"
InstallDirRegKey HKCU "${UNINSTKEY}" "InstallLocation"
BrandingText "${APPNAME} ${VERSION}"

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${APPNAME}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APPNAME} installer"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "LegalCopyright" "© ${PUBLISHER}"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${EXENAME}.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${APPNAME}"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function .onInit
  SetShellVarContext current
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "${APPNAME} needs 64-bit Windows." /SD IDOK
    Abort
  ${EndIf}
FunctionEnd

Section "${APPNAME}" SecApp
  SectionIn RO
  SetOutPath "$INSTDIR"
  ; an update replaces the program files: files of the previous version must not linger
  RMDir /r "$INSTDIR\_internal"
  File /r "${SRCDIR}\*.*"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateDirectory "$SMPROGRAMS\${APPNAME}"
  CreateShortcut "$SMPROGRAMS\${APPNAME}\${APPNAME}.lnk" "$INSTDIR\${EXENAME}.exe" "" "$INSTDIR\${EXENAME}.exe" 0
  CreateShortcut "$SMPROGRAMS\${APPNAME}\Uninstall ${APPNAME}.lnk" "$INSTDIR\uninstall.exe"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayName" "${APPNAME}"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTKEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\${EXENAME}.exe,0"
  WriteRegStr HKCU "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINSTKEY}" "EstimatedSize" $0
SectionEnd

Section "Desktop shortcut" SecDesktop
  CreateShortcut "$DESKTOP\${APPNAME}.lnk" "$INSTDIR\${EXENAME}.exe" "" "$INSTDIR\${EXENAME}.exe" 0
SectionEnd

LangString DESC_SecApp ${LANG_ENGLISH} "The program (required)."
LangString DESC_SecDesktop ${LANG_ENGLISH} "A shortcut on the desktop."
!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecApp} $(DESC_SecApp)
  !insertmacro MUI_DESCRIPTION_TEXT ${SecDesktop} $(DESC_SecDesktop)
!insertmacro MUI_FUNCTION_DESCRIPTION_END

; ---- uninstaller ----------------------------------------------------------------------------------

Section "un.${APPNAME}" UnSecApp
  SectionIn RO
  ; quit a running instance first? The files are in use: Windows refuses to delete them and says so.
  Delete "$DESKTOP\${APPNAME}.lnk"
  Delete "$SMPROGRAMS\${APPNAME}\${APPNAME}.lnk"
  Delete "$SMPROGRAMS\${APPNAME}\Uninstall ${APPNAME}.lnk"
  RMDir "$SMPROGRAMS\${APPNAME}"
  DeleteRegValue HKCU "${RUNKEY}" "${EXENAME}"
  DeleteRegKey HKCU "${UNINSTKEY}"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${EXENAME}.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
SectionEnd

Section /o "un.Remove my data (settings, database, logs)" UnSecData
  RMDir /r "${DATADIR}"
  RMDir "$LOCALAPPDATA\${PUBLISHER}"
SectionEnd

Function un.onInit
  SetShellVarContext current
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/REMOVEDATA" $R1
  ${IfNot} ${Errors}
    SectionSetFlags ${UnSecData} ${SF_SELECTED}
  ${EndIf}
FunctionEnd

LangString DESC_UnSecApp ${LANG_ENGLISH} "The program files and shortcuts."
LangString DESC_UnSecData ${LANG_ENGLISH} "Also delete your settings, trades database and logs in ${DATADIR}. Leave it unticked to keep them for a later install."
!insertmacro MUI_UNFUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${UnSecApp} $(DESC_UnSecApp)
  !insertmacro MUI_DESCRIPTION_TEXT ${UnSecData} $(DESC_UnSecData)
!insertmacro MUI_UNFUNCTION_DESCRIPTION_END
