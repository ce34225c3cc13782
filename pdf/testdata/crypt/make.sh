#!/bin/sh
# Regenerates the encrypted fixtures of crypt_test.go with qpdf (an independent implementation): base.pdf
# encrypted with the empty user password in every standard-handler variant, each with the file qpdf decrypts it
# to (*.dec.pdf, the oracle of TestDecryptMatchesQpdf), and two files that need a user password.
set -eu
cd "$(dirname "$0")"
python3 base.py > base.raw.pdf
qpdf --static-id base.raw.pdf base.pdf || test $? -eq 3
rm base.raw.pdf
enc() { # name, then qpdf encryption arguments
	name=$1; shift
	qpdf --static-aes-iv --static-id --allow-weak-crypto "$@" base.pdf "$name.pdf"
	qpdf --static-id --decrypt "$name.pdf" "$name.dec.pdf"
}
enc rc4-40 --encrypt "" owner 40 --
enc rc4-128 --encrypt "" owner 128 --use-aes=n --
enc rc4-128-v4 --encrypt "" owner 128 --use-aes=n --cleartext-metadata --
enc aes-128 --encrypt "" owner 128 --use-aes=y --
enc aes-128-objstm --object-streams=generate --encrypt "" owner 128 --use-aes=y --cleartext-metadata --
enc aes-256-r5 --encrypt "" owner 256 --force-R5 --
enc aes-256 --encrypt "" owner 256 --
enc aes-256-objstm --object-streams=generate --encrypt "" owner 256 --cleartext-metadata --
qpdf --static-aes-iv --static-id --allow-weak-crypto --encrypt user owner 128 --use-aes=n -- base.pdf user-rc4-128.pdf
qpdf --static-aes-iv --static-id --encrypt user owner 256 -- base.pdf user-aes-256.pdf
