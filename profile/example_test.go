package profile_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"

	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store/bbolt"
)

// The whole path of a citizen: apply, confirm the contact, have an officer confirm in person, sign with a code.
func Example() {
	dir, _ := os.MkdirTemp("", "trustsign")
	defer os.RemoveAll(dir)
	db, err := bbolt.Open(filepath.Join(dir, bbolt.FileName), bbolt.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	sent := &notify.Recorder{} // in production: notify.Outbox, notify.SMTP or notify.SMSGateway
	svc, err := profile.New(db, sent, profile.Options{
		Secret: []byte("a secret of at least 32 bytes, kept apart from the database"),
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	reg, err := svc.Register(ctx, profile.Application{Login: "anna_t", Password: "Zaufany-Haslo-2026",
		FirstName: "Anna", Surname: "Testowa", PESEL: "44051401359", Email: "anna@example.test",
		Phone: "+48500100200", CodeChannel: profile.ChannelSMS})
	if err != nil {
		panic(err)
	}
	code, _ := sent.Last("+48500100200")
	if err := svc.ConfirmContact(ctx, reg.ID, code.Code); err != nil {
		panic(err)
	}
	officer, _ := svc.CreateOfficer(ctx, "urzednik1", "Urzednik-Test-2026!", "Jan Urzędnik")
	p, err := svc.ConfirmInPerson(ctx, officer.ID, reg.ApplicationNumber,
		profile.IdentityDocument{Type: profile.IDCard, Number: "ABC123456"})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Status, p.Confirmation.Method)

	digest := sha256.Sum256([]byte("<recepta/>"))
	info, err := svc.IssueSigningCode(ctx, p.ID, "req-1", "recepta.xml", digest[:])
	if err != nil {
		panic(err)
	}
	code, _ = sent.Last("+48500100200")
	fmt.Println(info.Phrase == profile.VerificationPhrase(digest[:]))
	fmt.Println(svc.RedeemSigningCode(ctx, p.ID, "req-1", digest[:], code.Code))
	fmt.Println(svc.RedeemSigningCode(ctx, p.ID, "req-1", digest[:], code.Code))
	// Output:
	// active in-person
	// true
	// <nil>
	// profile: invalid or expired code
}

// The phrase the holder compares between the screen and the code message.
func ExampleVerificationPhrase() {
	digest := sha256.Sum256([]byte("<recepta><lek>Amoxicillinum 500 mg</lek></recepta>"))
	fmt.Println(profile.VerificationPhrase(digest[:]))
	// Output: skala smok rybak
}

// The life cycle as a rule.
func ExampleCanTransition() {
	fmt.Println(profile.CanTransition(profile.Pending, profile.Active))
	fmt.Println(profile.CanTransition(profile.Expired, profile.Active))
	fmt.Println(profile.CanTransition(profile.Invalid, profile.Revoked))
	// Output:
	// true
	// false
	// false
}

// A PESEL with its date of birth and sex.
func ExampleParsePESEL() {
	p, err := profile.ParsePESEL("02211307589")
	fmt.Println(p.BirthDate.Format("2006-01-02"), p.Female, err)
	_, err = profile.ParsePESEL("44051401358")
	fmt.Println(err != nil)
	// Output:
	// 2002-01-13 true <nil>
	// true
}

// Password recovery: a code to the confirmed contact channel, then the code and a new password. An unknown login
// gets the same answers and no message.
func ExampleService_ResetPassword() {
	dir, _ := os.MkdirTemp("", "trustsign")
	defer os.RemoveAll(dir)
	db, err := bbolt.Open(filepath.Join(dir, bbolt.FileName), bbolt.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	sent := &notify.Recorder{}
	svc, err := profile.New(db, sent, profile.Options{Secret: []byte("a secret of at least 32 bytes, kept apart from the database")})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	reg, err := svc.Register(ctx, profile.Application{Login: "anna_t", Password: "Zaufany-Haslo-2026",
		FirstName: "Anna", Surname: "Testowa", PESEL: "44051401359", Email: "anna@example.test",
		Phone: "+48500100200", CodeChannel: profile.ChannelEmail})
	if err != nil {
		panic(err)
	}
	m, _ := sent.Last("anna@example.test")
	if err := svc.ConfirmContact(ctx, reg.ID, m.Code); err != nil {
		panic(err)
	}
	officer, _ := svc.CreateOfficer(ctx, "urzednik1", "Urzednik-Test-2026!", "Jan Urzędnik")
	if _, err := svc.ConfirmInPerson(ctx, officer.ID, reg.ApplicationNumber,
		profile.IdentityDocument{Type: profile.IDCard, Number: "ABC123456"}); err != nil {
		panic(err)
	}

	fmt.Println(svc.RequestPasswordReset(ctx, "nobody"), svc.RequestPasswordReset(ctx, "anna_t"))
	svc.WaitForDeliveries() // reset codes go out in the background
	m, _ = sent.Last("anna@example.test")
	fmt.Println(svc.ResetPassword(ctx, "anna_t", m.Code, "Nowe-Haslo-2027"))
	_, err = svc.LoginFrom(ctx, "192.0.2.1", "anna_t", "Nowe-Haslo-2027")
	fmt.Println(err)
	// Output:
	// <nil> <nil>
	// <nil>
	// <nil>
}
