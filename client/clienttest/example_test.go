package clienttest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/trustsign/trustsign/client"
	"github.com/trustsign/trustsign/client/clienttest"
	"github.com/trustsign/trustsign/profile"
)

// Start runs the real service on loopback; codes are read from its in-memory outbox.
func ExampleStart() {
	ctx := context.Background()
	svc, err := clienttest.Start(clienttest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()
	key, _ := svc.NewIntegrator(ctx, "e-recepta", profile.ScopeSign)
	if _, err := svc.NewHolder(ctx, clienttest.Holder{Login: "anna", PESEL: clienttest.PESEL(1)}); err != nil {
		log.Fatal(err)
	}
	req, _ := svc.Client(client.APIKey(key)).Submit(ctx, client.Submission{Document: []byte("<recepta/>"), FileName: "r.xml"})
	sess, _ := svc.Client().Login(ctx, "anna", clienttest.Password)
	anna := svc.Client(client.SessionToken(sess.Token))
	anna.RequestCode(ctx, req.ID)
	code, _ := svc.LastCode("anna@example.test")
	res, err := anna.Confirm(ctx, req.ID, code)
	fmt.Println(res.Status, err)
	// Output: signed <nil>
}
