package api_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/trustsign/trustsign/client"
	"github.com/trustsign/trustsign/client/clienttest"
	"github.com/trustsign/trustsign/profile"
)

// BenchmarkSigningFlow runs full signing flows one after another, as bench/apiload does under load: submit ->
// code -> confirm (XAdES seal, P-256) -> fetch, over loopback HTTP with the Go client, on bbolt with fsync. What it
// is for is what a flow costs, not how fast the disk is: allocs/op and B/op (service and client together), and
// cpu-ms/op, the process's CPU time (user and system) per flow, and commits/op, the store's durable write
// transactions per flow (flows one at a time: no two share a commit). Holders take turns, and the code and message limits
// are relaxed so that they can sign b.N times; each holder's counters stay as short as under production rules.
//
//	go test ./api -run '^$' -bench SigningFlow -benchmem
func BenchmarkSigningFlow(b *testing.B) {
	svc, err := clienttest.Start(clienttest.Options{Dir: b.TempDir(),
		Codes:    profile.CodeOptions{ResendInterval: time.Nanosecond, MaxIssues: 1 << 30},
		Messages: profile.MessageOptions{HolderPerDestination: 1 << 30}})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	key, err := svc.NewIntegrator(bg, "bench", profile.ScopeSign)
	if err != nil {
		b.Fatal(err)
	}
	rx := svc.Client(client.APIKey(key))
	type holder struct {
		email string
		c     *client.Client
	}
	var holders []holder
	for i := range 50 {
		login := fmt.Sprintf("lekarz%02d", i)
		if _, err := svc.NewHolder(bg, clienttest.Holder{Login: login, PESEL: clienttest.PESEL(i)}); err != nil {
			b.Fatal(err)
		}
		s, err := svc.Client().Login(bg, login, clienttest.Password)
		if err != nil {
			b.Fatal(err)
		}
		holders = append(holders, holder{login + "@example.test", svc.Client(client.SessionToken(s.Token))})
	}
	n := 0
	doc := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<rx:Recepta xmlns:rx="urn:example:erecepta:1" wersja="1.0"><rx:Pacjent>Zofia Źdźbło-Łęcka</rx:Pacjent>` +
		`<rx:Lek ilosc="2">Amoxicillinum 500 mg</rx:Lek><rx:DataWystawienia>2026-03-02</rx:DataWystawienia></rx:Recepta>`)
	flow := func() error {
		h := holders[n%len(holders)]
		n++
		req, err := rx.Submit(bg, client.Submission{Document: doc, FileName: "recepta.xml", Format: client.XAdES,
			SuccessURL: "https://rx.example.test/ok"})
		if err != nil {
			return fmt.Errorf("submit: %w", err)
		}
		if _, err := h.c.RequestCode(bg, req.ID); err != nil {
			return fmt.Errorf("code: %w", err)
		}
		code, ok := svc.LastCode(h.email)
		if !ok {
			return fmt.Errorf("no code sent")
		}
		if _, err := h.c.Confirm(bg, req.ID, code); err != nil {
			return fmt.Errorf("confirm: %w", err)
		}
		if _, _, err := rx.SignedDocument(bg, req.ID); err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		return nil
	}
	for range 20 { // warm the store's pages, the connections and the pools
		if err := flow(); err != nil {
			b.Fatal(err)
		}
	}
	// every bbolt commit moves the meta page's transaction id on by one
	commits := func() int {
		var id int
		svc.DB.Bolt().View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }) //nolint:errcheck
		return id
	}
	cpu0, commits0 := processCPU(), commits()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := flow(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(commits()-commits0)/float64(b.N), "commits/op")
}

// processCPU is the process's CPU time so far, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
