package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/trustsign/trustsign/profile"
)

// Cookies. With Config.Secure the session and CSRF cookies get the __Host- prefix (Secure, Path=/, no Domain),
// so a sibling subdomain cannot plant them.
const (
	cookieSession = "ts_session"
	cookieCSRF    = "ts_csrf"
	cookieLang    = "ts_lang"
	cookieReg     = "ts_registration"
	cookieDemo    = "ts_demo"
	// csrfField is the hidden form field that must repeat the CSRF cookie.
	csrfField = "csrf"
)

func (s *server) cookieName(base string) string {
	if s.cfg.Secure {
		return "__Host-" + base
	}
	return base
}

// setCookie sets an HttpOnly, SameSite=Lax cookie on Path=/ (Secure per configuration). maxAge 0 makes a session
// cookie, a negative one deletes it.
func (s *server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(name), Value: value, Path: "/", MaxAge: maxAge,
		Secure: s.cfg.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (s *server) cookie(r *http.Request, name string) string {
	c, err := r.Cookie(s.cookieName(name))
	if err != nil {
		return ""
	}
	return c.Value
}

type ctxKey int

const ctxSession ctxKey = iota

// authState is the request's session, looked up once.
type authState struct {
	sess  profile.Session
	token string
	ok    bool
}

// session returns the request's session (ok false when anonymous). A stale cookie is removed.
func (s *server) session(w http.ResponseWriter, r *http.Request) (profile.Session, string, bool, error) {
	if a, found := r.Context().Value(ctxSession).(*authState); found {
		return a.sess, a.token, a.ok, nil
	}
	token := s.cookie(r, cookieSession)
	if token == "" {
		return profile.Session{}, "", false, nil
	}
	sess, err := s.cfg.Profiles.Authenticate(r.Context(), token)
	if errors.Is(err, profile.ErrUnauthenticated) {
		s.setCookie(w, cookieSession, "", -1)
		return profile.Session{}, "", false, nil
	}
	if err != nil {
		return profile.Session{}, "", false, err
	}
	return sess, token, true, nil
}

func withSession(r *http.Request, sess profile.Session, token string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), ctxSession, &authState{sess: sess, token: token, ok: true}))
}

// holderOnly lets profile holders in; anonymous visitors are sent to log in and come back, officers are refused.
func (s *server) holderOnly(h http.HandlerFunc) http.HandlerFunc {
	return s.roleOnly(profile.RoleHolder, h)
}

// officerOnly lets confirmation-point officers in.
func (s *server) officerOnly(h http.HandlerFunc) http.HandlerFunc {
	return s.roleOnly(profile.RoleOfficer, h)
}

func (s *server) roleOnly(role profile.Role, h http.HandlerFunc) http.HandlerFunc {
	return s.unlessMaintenance(func(w http.ResponseWriter, r *http.Request) {
		sess, token, ok, err := s.session(w, r)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if !ok {
			next := r.URL.Path
			if r.Method != http.MethodGet {
				// a form posted after the session ended: come back to the page it was on
				next = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(next, "/code"), "/confirm"), "/cancel")
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if sess.Role != role {
			key := "err.holderOnly"
			if role == profile.RoleOfficer {
				key = "err.officerOnly"
			}
			s.fail(w, r, http.StatusForbidden, key)
			return
		}
		h(w, withSession(r, sess, token))
	})
}

// csrfToken returns the browser's CSRF token, setting the cookie on first use.
func (s *server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if t := s.cookie(r, cookieCSRF); len(t) >= 32 {
		return t
	}
	t := randomToken(32)
	// set it on the request too, so that a second call in the same request agrees
	r.AddCookie(&http.Cookie{Name: s.cookieName(cookieCSRF), Value: t})
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(cookieCSRF), Value: t, Path: "/", Secure: s.cfg.Secure,
		HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return t
}

// post parses a form post within the size limit and checks its CSRF token (cross-origin posts were already
// refused by http.CrossOriginProtection; the token also covers browsers that send neither Sec-Fetch-Site nor
// Origin).
func (s *server) post(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		var err error
		if mt == "multipart/form-data" {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes+1<<20)
			err = r.ParseMultipartForm(1 << 20)
		} else {
			r.Body = http.MaxBytesReader(w, r.Body, 256<<10)
			err = r.ParseForm()
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				s.fail(w, r, http.StatusRequestEntityTooLarge, "err.tooLarge")
				return
			}
			s.fail(w, r, http.StatusBadRequest, "err.badForm")
			return
		}
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
		}
		want := s.cookie(r, cookieCSRF)
		got := r.PostFormValue(csrfField)
		if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
			s.log.Warn("form post without a valid CSRF token", "path", r.URL.Path)
			s.fail(w, r, http.StatusForbidden, "err.csrf")
			return
		}
		h(w, r)
	}
}

// safeNext accepts only a local path ("/..." but not "//..." or "/\...") to return to after logging in.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) ||
		strings.ContainsAny(next, "\r\n\t\\") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return ""
	}
	return next
}
