package api_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/client/clienttest"
)

// TestE2EOpenAPIStatusesDocumented calls every described route the ways a confused or hostile client would (no
// credentials, a malformed body, a wrong media type, unknown ids) and checks that each answer's status is one the
// description lists for that route, not only its default.
func TestE2EOpenAPIStatusesDocumented(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	e.holder(t, "anna")
	holder := "Bearer " + loginToken(t, e, "anna", clienttest.Password)
	type probe struct{ name, auth, ct, body, id string }
	var undocumented []string
	for _, r := range openAPIRoutes(t, e) {
		responses, _ := r.op["responses"].(map[string]any)
		auth := ""
		if sec, _ := r.op["security"].([]any); len(sec) > 0 {
			s, _ := sec[0].(map[string]any)
			switch {
			case len(s) == 0: // optional
			case s["apiKey"] != nil:
				auth = "Bearer " + e.rxKey
			default:
				auth = holder
			}
		}
		probes := []probe{{"anonymous", "", "", "", "nope"}}
		if auth != "" {
			probes = append(probes, probe{"unknown id", auth, "application/json", "{}", "nope"})
		}
		if r.op["requestBody"] != nil {
			probes = append(probes, probe{"malformed body", auth, "application/json", "{", "nope"},
				probe{"wrong media type", auth, "image/png", "\x89PNG", "nope"})
		}
		for _, p := range probes {
			path := strings.NewReplacer("{id}", p.id, "{applicationNumber}", p.id).Replace(r.path)
			st, _, body := e.raw(t, r.method, path, p.ct, strings.NewReader(p.body), p.auth)
			if responses[fmt.Sprint(st)] == nil {
				undocumented = append(undocumented, fmt.Sprintf("%s %s (%s): %d %.100s", r.method, r.path, p.name, st, body))
			}
		}
	}
	sort.Strings(undocumented)
	undocumented = slices.Compact(undocumented)
	for _, u := range undocumented {
		t.Errorf("undocumented status: %s", u)
	}
}
