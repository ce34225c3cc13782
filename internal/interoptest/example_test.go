package interoptest_test

import (
	"path/filepath"
	"testing"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
)

// A typical interop test: write the trust anchors, produce a signed file with the code under test, and ask the
// independent verifiers about it.
func ExampleVerify() {
	_ = func(t *testing.T) { // the body of a TestXxx function
		p := testpki.New()
		dir := t.TempDir()
		root := interoptest.WritePEM(t, dir, "root.pem", p.Root)
		inter := interoptest.WritePEM(t, dir, "inter.pem", p.Intermediate)
		signed := filepath.Join(dir, "signed.xml") // written by the code under test
		for _, tool := range []string{"xmlsec", "xadesjs", "santuario"} {
			if ok, out := interoptest.Verify(t, tool, signed, root, inter); !ok {
				t.Errorf("%s rejects our signature:\n%s", tool, out)
			}
		}
	}
}

// Running any interop command, here a signer from another implementation, to test that we accept its output.
func ExampleRun() {
	_ = func(t *testing.T) {
		p := testpki.New()
		dir := t.TempDir()
		key := interoptest.WriteKey(t, dir, "signer.key", p.EC256.Key)
		cert := interoptest.WritePEM(t, dir, "signer.pem", p.EC256.Cert) // leaf only: see the xadesjs ECDSA quirk
		in, out := filepath.Join(dir, "in.xml"), filepath.Join(dir, "signed.xml")
		if ok, output := interoptest.Run(t, "xadesjs-sign", in, out, "--key", key, "--cert", cert); !ok {
			t.Fatalf("xadesjs-sign: %s", output)
		}
		// ... verify out with the code under test.
	}
}
