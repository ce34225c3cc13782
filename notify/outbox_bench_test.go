package notify_test

import (
	"testing"

	"github.com/trustsign/trustsign/notify"
)

// BenchmarkOutboxSend writes code messages to an outbox directory one after another (what a holder's code
// request costs when the outbox is the channel).
func BenchmarkOutboxSend(b *testing.B) {
	ob, err := notify.NewOutbox(b.TempDir(), notify.OutboxOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := ob.Send(ctx, codeMsg); err != nil {
			b.Fatal(err)
		}
	}
}
