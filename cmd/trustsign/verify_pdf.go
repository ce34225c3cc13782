package main

import "crypto/x509"

type verifyCert struct{ *x509.Certificate }
