package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Warsaw everywhere, whatever the host has installed

	"github.com/trustsign/trustsign/profile"
)

// pageTemplate is one page: the layout plus the page's "content" block.
type pageTemplate = template.Template

var pageNames = []string{"home", "error", "register", "contact", "login", "profile", "sign",
	"demo", "demo_result", "officer", "verify", "verify_report", "maintenance", "recovery"}

func parsePages() (map[string]*pageTemplate, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/report.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	out := map[string]*pageTemplate{}
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(assets, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

var funcs = template.FuncMap{
	"bytes": humanBytes,
	"join":  strings.Join,
	"add":   func(a, b int) int { return a + b },
}

// warsaw is the time zone of every time shown.
var warsaw = func() *time.Location {
	l, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		return time.UTC
	}
	return l
}()

// view is what every page template gets.
type view struct {
	Lang string
	// TitleKey names the page title in the catalog.
	TitleKey string
	// Path is the page's path (for the language switch).
	Path string
	CSRF string
	// User is the logged-in person, nil when anonymous.
	User *userView
	// Flash is a catalog key of a notice to show at the top.
	Flash string
	// Errors holds translated messages by form field ("" for the whole form).
	Errors map[string]string
	// FieldOrder is the order of the form's fields, which the error summary follows.
	FieldOrder []string
	Form       url.Values
	Data       any
}

// summaryItem is one line of a form's error summary: the field it links to, the field's label, the message.
type summaryItem struct {
	Field, Label, Message string
}

// ErrorSummary lists the errors for the summary at the top of a page: the form's own first, then the fields in
// the form's order (FieldOrder), then any other field by name; each field's line names the field.
func (v *view) ErrorSummary() []summaryItem {
	var out []summaryItem
	if m, ok := v.Errors[""]; ok {
		out = append(out, summaryItem{Message: m})
	}
	seen := map[string]bool{"": true}
	add := func(f string) {
		m, ok := v.Errors[f]
		if !ok || seen[f] {
			return
		}
		seen[f] = true
		label := ""
		if hasKey("f." + f) {
			label = v.T("f." + f)
		}
		out = append(out, summaryItem{Field: f, Label: label, Message: m})
	}
	for _, f := range v.FieldOrder {
		add(f)
	}
	rest := make([]string, 0, len(v.Errors))
	for f := range v.Errors {
		rest = append(rest, f)
	}
	sort.Strings(rest)
	for _, f := range rest {
		add(f)
	}
	return out
}

type userView struct {
	Role  profile.Role
	Label string
}

// T translates a catalog key, formatting args into it.
func (v *view) T(key string, args ...any) string { return translate(v.Lang, key, args...) }

// Val is a form value to show again.
func (v *view) Val(name string) string { return v.Form.Get(name) }

// Err is the error message of a form field.
func (v *view) Err(name string) string { return v.Errors[name] }

// HasErrors tells whether the form has errors.
func (v *view) HasErrors() bool { return len(v.Errors) > 0 }

// Time formats a time in Warsaw time for the page's language.
func (v *view) Time(t any) string { return formatTime(v.Lang, t) }

// Level explains a baseline level ("b-t") in words.
func (v *view) Level(level string) string { return levelText(v.Lang, level) }

// TimeStampKind names a time-stamp's kind ("signature", "document", "archive").
func (v *view) TimeStampKind(kind string) string { return timeStampKind(v.Lang, kind) }

// Date formats a date for the page's language.
func (v *view) Date(t any) string {
	tt, ok := asTime(t)
	if !ok {
		return "—"
	}
	if v.Lang == "en" {
		return tt.In(warsaw).Format("2 January 2006")
	}
	return tt.In(warsaw).Format("02.01.2006")
}

// Other is the language the switch offers.
func (v *view) Other() string {
	if v.Lang == "en" {
		return "pl"
	}
	return "en"
}

// SwitchURL is the current page in the other language.
func (v *view) SwitchURL() string { return v.Path + "?lang=" + v.Other() }

func asTime(t any) (time.Time, bool) {
	switch x := t.(type) {
	case time.Time:
		return x, !x.IsZero()
	case *time.Time:
		if x == nil || x.IsZero() {
			return time.Time{}, false
		}
		return *x, true
	}
	return time.Time{}, false
}

func formatTime(lang string, t any) string {
	tt, ok := asTime(t)
	if !ok {
		return "—"
	}
	tt = tt.In(warsaw)
	if lang == "en" {
		return tt.Format("2 Jan 2006, 15:04:05 MST")
	}
	return tt.Format("02.01.2006, 15:04:05 MST")
}

func humanBytes(n int64) string {
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}

// view starts a page's data: language, CSRF token, who is logged in.
func (s *server) view(w http.ResponseWriter, r *http.Request, titleKey string) *view {
	v := &view{Lang: s.lang(w, r), TitleKey: titleKey, Path: r.URL.Path, CSRF: s.csrfToken(w, r),
		Errors: map[string]string{}, Form: url.Values{}}
	if m := r.URL.Query().Get("m"); m != "" && hasKey("flash."+m) {
		v.Flash = "flash." + m
	}
	if sess, _, ok, err := s.session(w, r); err == nil && ok {
		u := &userView{Role: sess.Role}
		switch sess.Role {
		case profile.RoleHolder:
			if p, err := s.cfg.Profiles.Get(r.Context(), sess.SubjectID); err == nil {
				u.Label = p.FirstName + " " + p.Surname
			}
		case profile.RoleOfficer:
			if o, err := s.cfg.Profiles.Officer(r.Context(), sess.SubjectID); err == nil {
				u.Label = o.Login
				if o.Name != "" {
					u.Label = o.Name
				}
			}
		}
		v.User = u
	}
	return v
}

// render writes a page with a status.
func (s *server) render(w http.ResponseWriter, status int, name string, v *view) {
	t, ok := s.pages[name]
	if !ok {
		panic("web: no page " + name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("web template", "page", name, "error", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", v.Lang)
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck
}

// lang picks the page language: ?lang= (remembered in a cookie), the cookie, Accept-Language, Polish.
func (s *server) lang(w http.ResponseWriter, r *http.Request) string {
	if q := r.URL.Query().Get("lang"); q == "pl" || q == "en" {
		http.SetCookie(w, &http.Cookie{Name: cookieLang, Value: q, Path: "/", MaxAge: 365 * 24 * 3600,
			Secure: s.cfg.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		return q
	}
	if c, err := r.Cookie(cookieLang); err == nil && (c.Value == "pl" || c.Value == "en") {
		return c.Value
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

// acceptLanguage picks pl or en from an Accept-Language header by quality (Polish when neither is asked for).
func acceptLanguage(h string) string {
	best, bestQ := "pl", -1.0
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if p := strings.TrimSpace(params); strings.HasPrefix(p, "q=") {
			f, err := strconv.ParseFloat(p[2:], 64)
			if err != nil {
				continue
			}
			q = f
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if (primary == "pl" || primary == "en") && q > 0 && q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}

// fieldView is one labelled input (template "input").
type fieldView struct {
	ID, Name, Type, Label, Hint, Value, Err, Auto, Mode, Optional string
	Max                                                           int
	Required, Focus                                               bool
}

// Described lists the ids that describe the input (hint, error, live feedback).
func (f fieldView) Described() string {
	ids := []string{}
	if f.Hint != "" {
		ids = append(ids, f.ID+"-hint")
	}
	if f.Err != "" {
		ids = append(ids, f.ID+"-error")
	}
	return strings.Join(append(ids, f.ID+"-live"), " ")
}

// Field describes an input named name (label "f.<name>"). Options: "req", "hint" (hint "f.<name>.hint"),
// "hint=KEY", "auto=VALUE", "mode=VALUE", "max=N", "focus", "name=NAME" (the submitted name when it differs from
// the id). Password inputs never show a value.
func (v *view) Field(id, typ string, opts ...string) fieldView {
	f := fieldView{ID: id, Name: id, Type: typ, Label: v.T("f." + id), Err: v.Errors[id], Optional: v.T("form.optional")}
	if typ != "password" {
		f.Value = v.Form.Get(id)
	}
	for _, o := range opts {
		k, val, _ := strings.Cut(o, "=")
		switch k {
		case "req":
			f.Required = true
		case "hint":
			if val == "" {
				val = "f." + id + ".hint"
			}
			f.Hint = v.T(val)
		case "auto":
			f.Auto = val
		case "mode":
			f.Mode = val
		case "max":
			f.Max, _ = strconv.Atoi(val)
		case "focus":
			// autofocus only when the page has no errors to announce first
			f.Focus = len(v.Errors) == 0
		case "name":
			f.Name = val
		default:
			panic("web: unknown field option " + o)
		}
	}
	return f
}
