#! --ro -a $IMG_LINUX -i
#@ launch
# -i on the fake Debian image, read-only: the inspector mounts the root;
# then a few queries.
mounts
mountpoints
inspect-get-roots
inspect-get-distro /dev/sda1
inspect-get-hostname /dev/sda1
cat /etc/hostname
ls /etc
is-file /bin/ls
checksum md5 /bin/ls
find /var
list-filesystems
-write /etc/hostname "x"
echo done
# win: paths on a Linux guest: without a drive letter, backslashes and
# the guest's own case; with one, there are no drive mappings.
cat win:\ETC\HOSTNAME
ls win:\Etc
is-dir win:
-cat win:c:\autoexec.bat
inspect-get-drive-mappings /dev/sda1
echo done
