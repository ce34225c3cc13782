package xades

// SignIgnoringKeyUsage signs as another tool would, with a certificate Sign refuses (for verifier tests).
var SignIgnoringKeyUsage = sign
