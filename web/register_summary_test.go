package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var summaryItemRe = regexp.MustCompile(`(?s)<li><a href="#([a-zA-Z0-9]+)">(.*?)</a></li>`)

// The registration error summary lists the errors in the form's order, each naming its field, in both languages.
func TestRegistrationErrorSummaryFollowsTheForm(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		lang   string
		labels []string
	}{
		{"pl", []string{"Login: ", "Powtórz hasło: ", "Imię: ", "Numer PESEL: ", "Adres e-mail: ", "Numer telefonu komórkowego: "}},
		{"en", []string{"Login: ", "Repeat the password: ", "First name: ", "PESEL number: ", "E-mail address: ", "Mobile phone number: "}},
	}
	for _, tc := range tests {
		t.Run(tc.lang, func(t *testing.T) {
			c := e.newClient()
			c.get("/?lang=" + tc.lang)
			// errors in reverse alphabetical order of the fields, so a map's order cannot pass by chance
			res := c.post("/register", url.Values{"login": {"a b"}, "password": {"Dobre-Haslo-2026"}, "password2": {"Inne-Haslo-2026"},
				"firstName": {""}, "surname": {"Próbny"}, "pesel": {"123"}, "email": {"nie-adres"}, "phone": {"12"}, "codeChannel": {"sms"}})
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", res.StatusCode)
			}
			summary := res.body[strings.Index(res.body, "error-summary"):]
			summary = summary[:strings.Index(summary, "</ul>")]
			items := summaryItemRe.FindAllStringSubmatch(summary, -1)
			wantFields := []string{"login", "password2", "firstName", "pesel", "email", "phone"}
			if len(items) != len(wantFields) {
				t.Fatalf("%d summary items, want %d: %s", len(items), len(wantFields), summary)
			}
			for i, it := range items {
				if it[1] != wantFields[i] || !strings.HasPrefix(it[2], tc.labels[i]) || len(it[2]) <= len(tc.labels[i]) {
					t.Errorf("item %d: #%s %q, want #%s starting %q and a message", i, it[1], it[2], wantFields[i], tc.labels[i])
				}
			}
		})
	}
}

// Registrations from one client address are limited (20 an hour): the 21st page says to wait, translated.
func TestAttackRegistrationFloodFromOneAddress(t *testing.T) {
	e := newEnv(t)
	c := e.newClient()
	c.get("/?lang=en")
	for i := 0; i <= 20; i++ {
		res := c.post("/register", url.Values{"login": {"flood_" + string(rune('a'+i))}, "password": {"Dobre-Haslo-2026"},
			"password2": {"Dobre-Haslo-2026"}, "firstName": {"Jan"}, "surname": {"Próbny"}, "pesel": {"44051401359"},
			"email": {"flood@example.test"}, "phone": {"+48500100300"}, "codeChannel": {"sms"}})
		switch {
		case i < 20 && res.StatusCode != http.StatusSeeOther:
			t.Fatalf("registration %d: %d", i, res.StatusCode)
		case i == 20:
			if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(res.body, "Too many attempts") {
				t.Fatalf("registration 21: %d %s", res.StatusCode, text(res.body))
			}
		}
	}
}
