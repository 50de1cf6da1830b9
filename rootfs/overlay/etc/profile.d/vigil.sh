# Vigil: busybox's sh (the fallback console shell if bash cannot run) gets the
# prompt bash has from /etc/bash.bashrc. bash is left to Debian's files, and
# dash, which cannot expand \u and \w, keeps '# '. busybox is told apart from
# dash by ${x//a/b}, which dash refuses (in a subshell, harmlessly).
if [ -z "${BASH-}" ] && (eval 'x=a; [ "${x//a/b}" = b ]') 2>/dev/null; then
    PS1='\u@\h:\w\$ '
fi

# A serial console knows neither the type nor the size of the terminal at
# its other end: `./vigil run` passes the host terminal's on the kernel
# command line (vigil.term=TERM vigil.winsize=ROWSxCOLS), if terminfo has it.
if [ -t 0 ] && [ -r /proc/cmdline ]; then
    for vigil_w in $(cat /proc/cmdline); do
        case $vigil_w in
            --) break ;;
            vigil.term=?*)
                vigil_t=${vigil_w#vigil.term=}
                if [ -n "$(find /usr/lib/terminfo /usr/share/terminfo -name "$vigil_t" 2>/dev/null)" ]; then
                    TERM=$vigil_t
                    export TERM
                fi ;;
            vigil.winsize=*x*)
                vigil_s=${vigil_w#vigil.winsize=}
                stty rows "${vigil_s%x*}" cols "${vigil_s#*x}" 2>/dev/null ;;
        esac
    done
    unset vigil_w vigil_t vigil_s
fi
