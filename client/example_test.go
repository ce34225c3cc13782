package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/trustsign/trustsign/client"
	"github.com/trustsign/trustsign/client/clienttest"
	"github.com/trustsign/trustsign/profile"
)

// The examples run against the real service in-process (package clienttest); in production the base URL is the
// service's and the key comes from `trustsign admin client create`.

const prescription = `<?xml version="1.0" encoding="UTF-8"?><recepta xmlns="urn:example:erecepta"><lek>Amoxicillinum 500 mg</lek></recepta>`

// start runs a service with an integrator key and one active holder (login "anna").
func start() (svc *clienttest.Service, apiKey string) {
	ctx := context.Background()
	svc, err := clienttest.Start(clienttest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if apiKey, err = svc.NewIntegrator(ctx, "e-recepta", profile.ScopeSign, profile.ScopeLookup, profile.ScopeVerify); err != nil {
		log.Fatal(err)
	}
	if _, err := svc.NewHolder(ctx, clienttest.Holder{Login: "anna", PESEL: "44051401359"}); err != nil {
		log.Fatal(err)
	}
	return svc, apiKey
}

func ExampleNew() {
	svc, apiKey := start()
	defer svc.Close()

	// an integrator's client: the API key goes into every request
	rx, err := client.New(svc.URL, client.APIKey(apiKey))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rx.Healthz(context.Background()))
	// Output: <nil>
}

// The e-prescription flow: the integrator submits, the holder previews, asks for a code and confirms, the
// integrator fetches the signed document.
func ExampleClient_Submit() {
	svc, apiKey := start()
	defer svc.Close()
	ctx := context.Background()
	rx := svc.Client(client.APIKey(apiKey))

	req, err := rx.Submit(ctx, client.Submission{Document: []byte(prescription), FileName: "recepta.xml", Format: client.XAdES,
		SuccessURL: "https://rx.example.test/ok", FailureURL: "https://rx.example.test/fail"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("submitted:", req.Status, req.Format)

	// the holder logs in and opens the sign URL
	anon := svc.Client()
	sess, err := anon.Login(ctx, "anna", clienttest.Password)
	if err != nil {
		log.Fatal(err)
	}
	anna := anon.With(client.SessionToken(sess.Token))
	pv, err := anna.Preview(ctx, req.ID)
	if err != nil {
		log.Fatal(err)
	}
	info, err := anna.RequestCode(ctx, req.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same phrase in the message as on screen:", info.Phrase == pv.Phrase)
	code, _ := svc.LastCode("anna@example.test") // the holder reads it from the e-mail
	res, err := anna.Confirm(ctx, req.ID, code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("confirmed:", res.Status, res.RedirectURL)

	signed, contentType, err := rx.SignedDocument(ctx, req.ID)
	if err != nil {
		log.Fatal(err)
	}
	rep, err := rx.Verify(ctx, signed)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(contentType, rep.Indication, rep.Signatures[0].TrustedProfile.PESEL)
	// Output:
	// submitted: pending xades
	// same phrase in the message as on screen: true
	// confirmed: signed https://rx.example.test/ok
	// application/xml TOTAL_PASSED 44051401359
}

// One code confirms several documents.
func ExampleClient_SubmitBatch() {
	svc, apiKey := start()
	defer svc.Close()
	ctx := context.Background()
	rx := svc.Client(client.APIKey(apiKey))

	b, err := rx.SubmitBatch(ctx, client.BatchSubmission{Documents: []client.BatchDocument{
		{Document: []byte(prescription), FileName: "recepta-1.xml"},
		{Document: []byte("zalecenia: 3 x dziennie"), FileName: "zalecenia.txt"},
	}})
	if err != nil {
		log.Fatal(err)
	}
	sess, _ := svc.Client().Login(ctx, "anna", clienttest.Password)
	anna := svc.Client(client.SessionToken(sess.Token))
	if _, err := anna.RequestCode(ctx, b.ID); err != nil {
		log.Fatal(err)
	}
	code, _ := svc.LastCode("anna@example.test")
	res, err := anna.Confirm(ctx, b.ID, code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(b.Requests), "documents,", len(res.Requests), "signed with one code")
	// Output: 2 documents, 2 signed with one code
}

// Errors are *client.Problem (RFC 9457).
func ExampleProblem() {
	svc, apiKey := start()
	defer svc.Close()
	ctx := context.Background()
	rx := svc.Client(client.APIKey(apiKey))

	_, _, err := rx.SignedDocument(ctx, "no-such-request")
	var p *client.Problem
	if errors.As(err, &p) {
		fmt.Println(p.Status, p.Slug(), p.IsProblemJSON())
	}
	_, err = rx.Submit(ctx, client.Submission{Document: []byte(prescription), FileName: "recepta.xml", Format: client.PAdES})
	fmt.Println(client.StatusOf(err))
	// Output:
	// 404 not-found true
	// 415
}

// Lookup sends the PESEL in the body, never in the URL.
func ExampleClient_Lookup() {
	svc, apiKey := start()
	defer svc.Close()
	rx := svc.Client(client.APIKey(apiKey))

	r, err := rx.Lookup(context.Background(), "44051401359")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Status, r.Login, r.ConfirmationMethod)
	_, err = rx.Lookup(context.Background(), "02270803624")
	fmt.Println(client.StatusOf(err))
	// Output:
	// active anna in-person
	// 404
}

// A citizen applies, confirms the contact with the code, and an officer confirms the application.
func ExampleClient_Register() {
	svc, _ := start()
	defer svc.Close()
	ctx := context.Background()
	anon := svc.Client()

	reg, err := anon.Register(ctx, client.Application{Login: "jan_k", Password: "Mocne-Haslo-2026!", FirstName: "Jan",
		Surname: "Kowalski", PESEL: "02270803624", Email: "jan@example.test", Phone: "+48500100300", CodeChannel: client.SMS})
	if err != nil {
		log.Fatal(err)
	}
	code, _ := svc.LastCode("+48500100300")
	if err := anon.ConfirmContact(ctx, reg.ID, code); err != nil {
		log.Fatal(err)
	}
	if _, err := svc.Officer(ctx); err != nil {
		log.Fatal(err)
	}
	os, err := anon.Login(ctx, clienttest.OfficerLogin, clienttest.OfficerPassword)
	if err != nil {
		log.Fatal(err)
	}
	officer := anon.With(client.SessionToken(os.Token))
	p, err := officer.OfficerConfirm(ctx, reg.ApplicationNumber, client.IdentityDocument{DocumentType: client.IDCard, DocumentNumber: "ABC123456"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(reg.Status, "->", p.Status)
	// Output: pending -> active
}

// Maintenance windows are public.
func ExampleClient_Maintenance() {
	svc, _ := start()
	defer svc.Close()
	ctx := context.Background()
	start := time.Now().Add(24 * time.Hour)
	if err := svc.AddMaintenanceWindow(ctx, "upgrade", start, start.Add(time.Hour), "Aktualizacja"); err != nil {
		log.Fatal(err)
	}
	m, err := svc.Client().Maintenance(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(m.Windows), m.Windows[0].ID, m.Windows[0].Active)
	// Output: 1 upgrade false
}
