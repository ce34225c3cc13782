package signing_test

import (
	"fmt"

	"github.com/trustsign/trustsign/signing"
)

// An integrator's file name with a right-to-left override would show as "fakturaexe.pdf"; shown, the override is
// a visible escape.
func ExampleShown() {
	fmt.Println(signing.Shown("faktura\u202efdp.exe"))
	fmt.Println(signing.ShownText("Recepta nr 1\r\nlek \x1b[2J"))
	// Output:
	// faktura\u202efdp.exe
	// Recepta nr 1
	// lek \x1b[2J
}
