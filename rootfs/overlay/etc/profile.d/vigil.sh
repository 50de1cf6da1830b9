# Vigil: busybox's sh (the fallback console shell while dynamic ELF is missing)
# gets the prompt bash has from /etc/bash.bashrc. bash is left to Debian's
# files, and dash, which cannot expand \u and \w, keeps '# '. busybox is told
# apart from dash by ${x//a/b}, which dash refuses (in a subshell, harmlessly).
if [ -z "${BASH-}" ] && (eval 'x=a; [ "${x//a/b}" = b ]') 2>/dev/null; then
    PS1='\u@\h:\w\$ '
fi
