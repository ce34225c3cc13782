package notify_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/trustsign/trustsign/notify"
)

// The development outbox: every message, SMS included, becomes one file with a "Code:" line.
func ExampleOutbox() {
	dir, _ := os.MkdirTemp("", "outbox")
	defer os.RemoveAll(dir)
	ob, err := notify.NewOutbox(dir, notify.OutboxOptions{})
	if err != nil {
		panic(err)
	}
	err = ob.Send(context.Background(), notify.Message{To: "+48500100200", Channel: notify.SMS,
		Body: "Profil zaufany: kod 123456. Nie podawaj go nikomu.", Code: "123456"})
	if err != nil {
		panic(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	fmt.Println(len(files))
	// Output: 1
}

// Route messages by channel: e-mail through SMTP, SMS through an HTTP gateway.
func ExampleRouter() {
	smtp, _ := notify.NewSMTP(notify.SMTPOptions{Host: "smtp.example.test", From: "PZ <no-reply@example.test>"})
	sms, _ := notify.NewSMSGateway(notify.SMSGatewayOptions{URL: "https://sms.example.test/v1/messages"})
	var s notify.Sender = notify.Router{Email: smtp, SMS: sms}
	_ = s
	rec := &notify.Recorder{}
	_ = notify.Router{Email: rec, SMS: rec}.Send(context.Background(), notify.Message{To: "anna@example.test", Channel: notify.Email, Body: "Kod: 123456", Code: "123456"})
	m, _ := rec.Last("anna@example.test")
	fmt.Println(m.Code)
	// Output: 123456
}
