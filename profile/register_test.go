package profile_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/profile"
)

// peselAged returns a valid PESEL of someone born at the given date.
func peselBorn(d time.Time, serial string) string {
	m := int(d.Month())
	switch {
	case d.Year() >= 2000 && d.Year() < 2100:
		m += 20
	case d.Year() >= 1800 && d.Year() < 1900:
		m += 80
	}
	s := fmt.Sprintf("%02d%02d%02d%s", d.Year()%100, m, d.Day(), serial)
	w := []int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3}
	sum := 0
	for i, c := range s {
		sum += int(c-'0') * w[i]
	}
	return s + fmt.Sprint((10-sum%10)%10)
}

func TestRegisterValidation(t *testing.T) {
	e := newEnv(t)
	child := peselBorn(start.AddDate(-10, 0, 0), "1234")
	just13 := peselBorn(start.AddDate(-13, 0, 0), "1234")
	future := peselBorn(start.AddDate(0, 0, 3), "1234")
	tests := []struct {
		name   string
		mutate func(*profile.Application)
		field  string // "" = valid
	}{
		{"valid", func(a *profile.Application) {}, ""},
		{"exactly 13 years old", func(a *profile.Application) { a.PESEL = just13 }, ""},
		{"login with spaces", func(a *profile.Application) { a.Login = "jan spaces!" }, "login"},
		{"login too short", func(a *profile.Application) { a.Login = "ab" }, "login"},
		{"login with Polish letter", func(a *profile.Application) { a.Login = "jań" }, "login"},
		{"password too short", func(a *profile.Application) { a.Password = "Ab1!" }, "password"},
		{"password without upper case", func(a *profile.Application) { a.Password = "dobre-haslo-2026" }, "password"},
		{"password without lower case", func(a *profile.Application) { a.Password = "DOBRE-HASLO-2026" }, "password"},
		{"password letters only", func(a *profile.Application) { a.Password = "DobreHaslo" }, "password"},
		{"common password", func(a *profile.Application) { a.Password = "Password1!" }, "password"},
		{"common Polish password", func(a *profile.Application) { a.Password = "Zaq12wsx" }, "password"},
		{"password is the surname and digits", func(a *profile.Application) { a.Password = "Próbny2026!" }, "password"},
		{"password contains the login", func(a *profile.Application) { a.Login = "kowalski"; a.Password = "Kowalski-2026" }, "password"},
		{"password of 129 characters", func(a *profile.Application) { a.Password = "Aa1" + strings.Repeat("x", 126) }, "password"},
		{"long passphrase", func(a *profile.Application) { a.Password = "Pociąg do Gdańska odjeżdża o 7:15" }, ""},
		{"PESEL checksum", func(a *profile.Application) { a.PESEL = "44051401358" }, "pesel"},
		{"PESEL impossible date", func(a *profile.Application) { a.PESEL = "02381307589" }, "pesel"},
		{"PESEL of a 10-year-old", func(a *profile.Application) { a.PESEL = child }, "pesel"},
		{"PESEL born in the future", func(a *profile.Application) { a.PESEL = future }, "pesel"},
		{"no first name", func(a *profile.Application) { a.FirstName = " " }, "firstName"},
		{"digits in surname", func(a *profile.Application) { a.Surname = "K0walski" }, "surname"},
		{"second name optional", func(a *profile.Application) { a.SecondName = "Maria-Józefa" }, ""},
		{"bad e-mail", func(a *profile.Application) { a.Email = "jan@" }, "email"},
		{"e-mail with display name", func(a *profile.Application) { a.Email = "Jan <jan@example.pl>" }, "email"},
		{"bad phone", func(a *profile.Application) { a.Phone = "12ab" }, "phone"},
		{"national phone", func(a *profile.Application) { a.Phone = "500 100 300" }, ""},
		{"bad channel", func(a *profile.Application) { a.CodeChannel = "fax" }, "codeChannel"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := app(fmt.Sprintf("jan_%d", i), peselBorn(time.Date(1980, 1, 1+i%28, 0, 0, 0, 0, time.UTC), fmt.Sprintf("%04d", i)))
			tc.mutate(&a)
			_, err := e.svc.Register(ctx, a)
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ve *profile.ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field || !errors.Is(err, profile.ErrInvalid) {
				t.Fatalf("error %v, want a validation error on %s", err, tc.field)
			}
		})
	}
}

func TestRegisterSendsOneContactCode(t *testing.T) {
	for _, ch := range []profile.Channel{profile.ChannelEmail, profile.ChannelSMS} {
		t.Run(string(ch), func(t *testing.T) {
			e := newEnv(t)
			a := app("jan_ok", pesel)
			a.CodeChannel = ch
			r, err := e.svc.Register(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != profile.Pending || !regexp.MustCompile(`^PZ-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$`).MatchString(r.ApplicationNumber) {
				t.Fatalf("registration %+v", r)
			}
			msgs := e.sent.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages, want exactly one", len(msgs))
			}
			m := msgs[0]
			wantTo, wantCh := a.Email, notify.Email
			if ch == profile.ChannelSMS {
				wantTo, wantCh = a.Phone, notify.SMS
			}
			if m.To != wantTo || m.Channel != wantCh || !regexp.MustCompile(`^[0-9]{6}$`).MatchString(m.Code) ||
				!strings.Contains(m.Body, m.Code) || !strings.Contains(m.Body, "Nie podawaj") {
				t.Fatalf("message %+v", m)
			}
			if ch == profile.ChannelSMS && len([]rune(m.Body)) > 160 {
				t.Errorf("SMS of %d characters", len([]rune(m.Body)))
			}
			p, err := e.svc.Get(ctx, r.ID)
			if err != nil || p.Status != profile.Pending || p.ContactConfirmed || !p.ApplicationExpires.Equal(start.Add(14*24*time.Hour)) {
				t.Fatalf("profile %+v %v", p, err)
			}
			if err := e.svc.ConfirmContact(ctx, r.ID, m.Code); err != nil {
				t.Fatal(err)
			}
			if p, _ = e.svc.Get(ctx, r.ID); !p.ContactConfirmed {
				t.Fatal("contact not confirmed")
			}
			// neither the code nor the PESEL lies in the database file in clear... the code at least
			path := e.db.Path()
			e.db.Close()
			raw, _ := os.ReadFile(path)
			if len(raw) == 0 {
				t.Fatal("empty database file")
			}
			if bytes.Contains(raw, []byte(m.Code)) {
				t.Error("the code is stored in clear")
			}
		})
	}
}

func TestRegisterDoesNotRevealTakenLoginOrPESEL(t *testing.T) {
	e := newEnv(t)
	first := e.activeProfile(t, "jan_ok", pesel) // a confirmed holder: a pending application owns no PESEL
	e.sent = &notify.Recorder{}
	e.svc, _ = profile.New(e.db, e.sent, e.opts)
	otherPESEL := peselBorn(time.Date(1975, 6, 1, 0, 0, 0, 0, time.UTC), "5555")
	tests := []struct {
		name string
		a    profile.Application
	}{
		{"same login", app("jan_ok", otherPESEL)},
		{"same login, other case", app("JAN_OK", peselBorn(time.Date(1976, 6, 1, 0, 0, 0, 0, time.UTC), "5555"))},
		{"same PESEL", app("jan_other", pesel)},
	}
	for i, tc := range tests {
		tc.a.Email = fmt.Sprintf("applicant%d@example.test", i) // apart from the holder's, so each message is attributable
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.sent.Messages())
			r, err := e.svc.Register(ctx, tc.a)
			e.svc.WaitForDeliveries() // notices to others go in the background
			if err != nil || r.ID == "" || r.ID == first.ID || r.Status != profile.Pending || len(r.ApplicationNumber) != len(first.ApplicationNumber) {
				t.Fatalf("duplicate answered differently: %+v %v", r, err)
			}
			msgs := e.sent.Messages()[before:]
			// the applicant's contact gets a code as with a fresh identity; the holder is told once a day, and so is
			// an earlier decoy filed with the same taken login (as a real application holding it would be)
			var notices, decoyNotices, codes int
			for _, m := range msgs {
				switch {
				case m.To == "jan_ok@example.test" && m.Code == "":
					notices++
				case m.To == "applicant0@example.test" && m.Code == "":
					decoyNotices++
				case m.To == tc.a.Email && m.Code != "":
					codes++
				default:
					t.Errorf("unexpected message %+v", m)
				}
			}
			wantNotices, wantDecoy := map[bool]int{true: 1, false: 0}[i == 0], map[bool]int{true: 1, false: 0}[i == 1]
			if codes != 1 || notices != wantNotices || decoyNotices != wantDecoy {
				t.Fatalf("%d codes to the applicant, %d notices to the holder, %d to the earlier decoy (want 1, %d, %d): %+v",
					codes, notices, decoyNotices, wantNotices, wantDecoy, msgs)
			}
			// the decoy behaves like a real application towards the caller, and cannot be confirmed
			wantErr(t, e.svc.ConfirmContact(ctx, r.ID, "123456"), profile.ErrInvalidCode)
			e.clock.Advance(time.Second)
			if err := e.svc.ResendContactCode(ctx, r.ID); err != nil {
				t.Fatalf("resend on decoy: %v", err)
			}
			if _, err := e.svc.ConfirmationDocument(ctx, r.ApplicationNumber, r.Secret); err != nil {
				t.Fatalf("confirmation document of a decoy: %v", err)
			}
			e.mustBeDecoy(t, r, tc.a.Email)
			if got, err := e.svc.GetByApplicationNumber(ctx, first.ApplicationNumber); err != nil || got.Login != "jan_ok" {
				t.Fatalf("the holder's application changed: %+v %v", got, err)
			}
		})
	}
	// a day later the holder may be told again
	e.clock.Advance(24 * time.Hour)
	before := len(e.sent.Messages())
	e.register(t, "jan_again", pesel)
	e.svc.WaitForDeliveries()
	_, holderTold := e.sent.Last("jan_ok@example.test")
	decoy, decoyTold := e.sent.Last("applicant2@example.test") // filed with the holder's PESEL
	if !holderTold || !decoyTold || decoy.Code != "" || len(e.sent.Messages()) != before+3 {
		t.Fatalf("no notices after a day: %+v", e.sent.Messages()[before:])
	}
}

// timing turns on the wall-clock test below: on a loaded machine (CI, parallel packages) its medians swing both
// ways, so it runs on request: go test ./profile -run Timing -timing
var timing = flag.Bool("timing", false, "run the wall-clock timing test (on an otherwise idle machine)")

func TestRegisterTimingDoesNotRevealDuplicates(t *testing.T) {
	if !*timing {
		t.Skip("wall-clock timing: run with -timing on an idle machine")
	}
	// Production hashing cost: the hash dominates both paths.
	e := newEnv(t, func(o *profile.Options) { o.Argon2, o.UnsafeFastHashing = profile.DefaultArgon2, false })
	e.register(t, "jan_ok", pesel)
	measure := func(fresh bool, i int) time.Duration {
		a := app("jan_ok", pesel)
		if fresh {
			a = app(fmt.Sprintf("new_%d", i), peselBorn(time.Date(1970, 1, 1+i, 0, 0, 0, 0, time.UTC), "7777"))
		}
		t0 := time.Now()
		if _, err := e.svc.Register(ctx, a); err != nil {
			t.Fatal(err)
		}
		return time.Since(t0)
	}
	// interleaved samples, compared by their medians so that a stall of the machine does not decide the outcome
	const n = 7
	var newT, dupT []time.Duration
	for i := 0; i < n; i++ {
		newT = append(newT, measure(true, i))
		dupT = append(dupT, measure(false, i))
	}
	median := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[len(d)/2]
	}
	ratio := float64(median(dupT)) / float64(median(newT))
	t.Logf("new registrations %v, duplicates %v (median ratio %.2f)", median(newT), median(dupT), ratio)
	if ratio < 0.5 || ratio > 2 {
		t.Fatalf("duplicate registrations take %.2f× the time of new ones", ratio)
	}
}

func TestReapplyAfterRevocationButNotAfterInvalidation(t *testing.T) {
	e := newEnv(t)
	p := e.activeProfile(t, "jan_ok", pesel)
	if err := e.svc.Revoke(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	r := e.register(t, "jan_new", pesel)
	got, err := e.svc.GetByApplicationNumber(ctx, r.ApplicationNumber)
	if err != nil || got.ID != r.ID {
		t.Fatalf("a revoked holder's new application was not stored: %v", err)
	}
	// the old login stays taken
	r2, _ := e.svc.Register(ctx, app("jan_ok", peselBorn(time.Date(1990, 2, 2, 0, 0, 0, 0, time.UTC), "1111")))
	e.mustBeDecoy(t, r2, "jan_ok@example.test")
	// an application invalidated before any confirmation holds no PESEL (it may have been an impostor's): the next
	// application is real; a confirmed profile invalidated (death reported) keeps it
	if err := e.svc.Invalidate(ctx, "admin1", r.ID, "impostor reported"); err != nil {
		t.Fatal(err)
	}
	real := e.activeProfile(t, "jan_third", pesel)
	if err := e.svc.Invalidate(ctx, "admin1", real.ID, "death reported by the PESEL register"); err != nil {
		t.Fatal(err)
	}
	r4, _ := e.svc.Register(ctx, app("jan_fourth", pesel))
	e.mustBeDecoy(t, r4, "jan_fourth@example.test")
}

func TestNewRefusesWeakHashing(t *testing.T) {
	e := newEnv(t)
	_, err := profile.New(e.db, e.sent, profile.Options{Secret: e.opts.Secret, Argon2: fastArgon2})
	if err == nil {
		t.Fatal("weak argon2id accepted without UnsafeFastHashing")
	}
	if d := profile.DefaultArgon2; d.Memory < 19*1024 || d.Time < 2 || d.Threads != 1 {
		t.Fatalf("default argon2id %+v below m=19 MiB t=2 p=1", d)
	}
	if _, err := profile.New(e.db, e.sent, profile.Options{Secret: []byte("short")}); err == nil {
		t.Fatal("short secret accepted")
	}
	if _, err := profile.New(e.db, e.sent, profile.Options{Secret: e.opts.Secret, Codes: profile.CodeOptions{Digits: 4}}); err == nil {
		t.Fatal("4-digit codes accepted")
	}
}

func TestPasswordStoredAsArgon2id(t *testing.T) {
	e := newEnv(t)
	e.register(t, "jan_ok", pesel)
	path := e.db.Path()
	e.db.Close()
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte(password)) {
		t.Fatal("password in clear")
	}
	if !bytes.Contains(raw, []byte(`$argon2id$v=19$m=64,t=1,p=1$`)) {
		t.Fatal("no PHC argon2id hash stored")
	}
}

// A pending application does not own its PESEL: a second application with it is real too, its applicant and the
// first one's hear nothing of each other, and the officer's check decides: the confirmed one holds the PESEL, the
// other is closed (revoked, audited), and later applications with the PESEL are decoys the holder hears of.
func TestPendingApplicationsShareAPESEL(t *testing.T) {
	e := newEnv(t)
	first := e.register(t, "pierwszy", pesel)
	second := e.register(t, "drugi", pesel)
	e.svc.WaitForDeliveries()
	for _, m := range e.sent.Messages() {
		if m.Code == "" {
			t.Errorf("a notice while only pending applications hold the PESEL: %+v", m)
		}
	}
	if err := e.svc.ConfirmContact(ctx, second.ID, e.lastCode(t, "drugi@example.test")); err != nil {
		t.Fatal(err)
	}
	o := e.officer(t)
	doc := profile.IdentityDocument{Type: profile.IDCard, Number: "ABC123456"}
	if _, err := e.svc.ConfirmInPerson(ctx, o.ID, second.ApplicationNumber, doc); err != nil {
		t.Fatalf("the second application: %v", err)
	}
	if got, err := e.svc.Get(ctx, first.ID); err != nil || got.Status != profile.Revoked {
		t.Fatalf("the other application after the confirmation: %+v %v", got.Status, err)
	}
	if err := e.svc.ConfirmContact(ctx, first.ID, e.lastCode(t, "pierwszy@example.test")); err == nil {
		t.Error("a closed application's contact confirmed")
	}
	_, err := e.svc.ConfirmInPerson(ctx, o.ID, first.ApplicationNumber, doc)
	wantErr(t, err, profile.ErrTransition)
	e.clock.Advance(time.Minute)
	third := e.register(t, "trzeci", pesel)
	e.mustBeDecoy(t, third, "trzeci@example.test")
	if m, ok := e.sent.Last("drugi@example.test"); !ok || m.Code != "" {
		t.Errorf("the confirmed holder was not told of a later application: %+v", m)
	}
}
