# coreutils over a tree: ls -la, cp -a, find, sort, sha256sum.
set -e
T=202001020304.05
mkdir -p /root/work && cd /root/work && rm -rf cu && mkdir cu && cd cu
mkdir -p tree/a/b tree/c
for i in 1 2 3 4 5 6 7 8; do
    seq $((i * 1000)) | head -c $((i * 997)) > tree/a/f$i
done
printf 'zeta\nalpha\nMike\nbravo\n10\n9\n' > tree/c/words
ln -s ../c/words tree/a/b/words-link
ln tree/a/f1 tree/a/hard1
chmod 640 tree/a/f2; chmod 711 tree/c
find tree -exec touch -h -t $T {} +
cp -a tree copy
echo "== find"; find copy | sort
echo "== find -type f -size"; find copy -type f -size +3k | sort
echo "== ls -laR (times, modes, links, sizes)"
ls -laR --time-style=+%F.%T copy | grep -v ' \.\.$' | sed 's/^total .*/total/'
echo "== sort"; sort copy/c/words; sort -n copy/c/words | head -3; sort -f -r copy/c/words
echo "== sha256sum"; (cd copy && find . -type f | sort | xargs sha256sum)
echo "== stat"; stat -c '%n %s %h %a %Y' copy/a/f1 copy/a/hard1 copy/a/b/words-link
echo "== du"; du -s --apparent-size -b copy | cut -f1
echo "== wc"; cat copy/a/f* | wc
echo "== cmp"; [ "$(sha256sum < tree/a/f8)" = "$(sha256sum < copy/a/f8)" ] && echo same
echo "== tail/head/cut/tr"; tail -n 2 copy/a/f3; head -c 20 copy/a/f8 | tr '\n' ' '; echo
echo "== rm"; rm -r copy; ls
