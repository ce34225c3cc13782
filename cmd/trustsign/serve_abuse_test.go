package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// servedBinary is a `trustsign serve` process built from this tree, for tests that measure the whole server.
type servedBinary struct {
	addr string
	cmd  *exec.Cmd
	errs *syncBuffer
}

// startBinary builds ./cmd/trustsign and runs `trustsign serve` with args on a fresh data directory.
func startBinary(t *testing.T, args ...string) *servedBinary {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is needed to build the server binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "trustsign")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	s := &servedBinary{errs: &syncBuffer{}}
	s.cmd = exec.Command(bin, append([]string{"serve", "--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0"}, args...)...)
	s.cmd.Env = os.Environ()
	s.cmd.Stderr = s.errs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Kill() //nolint:errcheck
		s.cmd.Wait()         //nolint:errcheck
	})
	deadline := time.Now().Add(30 * time.Second)
	for s.addr == "" && time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(s.errs.String()))
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "trustsign serving" {
				s.addr = rec.Addr
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s.addr == "" {
		t.Fatalf("server did not start: %s", s.errs.String())
	}
	return s
}

// status reads a figure in kB (VmHWM, VmRSS) of the server process from /proc.
func (s *servedBinary) status(t *testing.T, field string) int64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		t.Skipf("no /proc to measure the server's memory: %v", err)
	}
	m := regexp.MustCompile(`(?m)^` + field + `:\s+(\d+) kB`).FindSubmatch(raw)
	if m == nil {
		t.Fatalf("no %s in /proc/PID/status", field)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb
}

// worstCaseBodies are 9.9 MB documents shaped to cost the verifier the most memory per input byte.
func worstCaseBodies() []struct{ name, body string } {
	const size = 9_900_000
	fill := func(head, unit, tail string) string {
		n := (size - len(head) - len(tail)) / len(unit)
		return head + strings.Repeat(unit, n) + tail
	}
	// nesting 200 deep (within the depth limit), a text node at each level
	var nest strings.Builder
	for range 200 {
		nest.WriteString("<d>t")
	}
	for range 200 {
		nest.WriteString("</d>")
	}
	var attrs, nss strings.Builder
	attrs.WriteString("<e")
	nss.WriteString("<e")
	for i := range 250 {
		fmt.Fprintf(&attrs, ` a%d=""`, i)
		fmt.Fprintf(&nss, ` xmlns:n%d="u"`, i)
	}
	attrs.WriteString("/>")
	nss.WriteString("/>")
	// a PDF whose catalog holds an AcroForm with as many field references as fit, and a large object stream count
	pdfHead := "%PDF-1.7\n1 0 obj\n<< /Type /Catalog /AcroForm << /Fields ["
	pdfTail := "] >> >>\nendobj\ntrailer\n<< /Root 1 0 R /Size 2 >>\nstartxref\n9\n%%EOF\n"
	return []struct{ name, body string }{
		{"empty element and text repeated", fill("<r>", "<b/>x", "</r>")},
		{"empty elements (the densest accepted)", fill("<r>", "<a/>", "</r>")},
		{"nesting 200 deep repeated", fill("<r>", nest.String(), "</r>")},
		{"250 attributes per element", fill("<r>", attrs.String(), "</r>")},
		{"250 namespace declarations per element", fill("<r>", nss.String(), "</r>")},
		{"comments and processing instructions", fill("<r>", "<!---->x<?p?>", "</r>")},
		{"PDF with a huge field array", fill(pdfHead, "2 0 R ", pdfTail)},
	}
}

// TestAttackVerifyMemoryAmplification fires six concurrent 9.9 MB worst-case bodies of several shapes at the
// anonymous POST /v1/verify (and at the web page's verify form) of a real `trustsign serve` process: its peak
// resident memory stays under 1.5 GB, it keeps answering /healthz, and every answer is 200, 413, 422 or 429,
// never a 5xx or a dropped connection.
func TestAttackVerifyMemoryAmplification(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and loads the server binary (about 30 s)")
	}
	s := startBinary(t)
	base := "http://" + s.addr
	client := &http.Client{Timeout: 2 * time.Minute}
	before := s.status(t, "VmRSS")

	// the web form's CSRF token and cookie
	jar, _ := cookiejar.New(nil)
	web := &http.Client{Timeout: 2 * time.Minute, Jar: jar}
	resp, err := web.Get(base + "/verify")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on /verify")
	}
	csrf := string(m[1])

	allowed := map[int]bool{200: true, 413: true, 422: true, 429: true}
	counts := map[string]int{}
	var mu sync.Mutex
	record := func(what string, code int, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
			t.Errorf("%s: %v", what, err)
		case !allowed[code]:
			t.Errorf("%s: status %d", what, code)
		}
		counts[strconv.Itoa(code)]++
	}
	postAPI := func(body string) (int, error) {
		resp, err := client.Post(base+"/v1/verify", "application/xml", strings.NewReader(body))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			return 0, errors.New("429 without Retry-After")
		}
		return resp.StatusCode, err
	}
	postForm := func(body string) (int, error) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("csrf", csrf) //nolint:errcheck
		fw, _ := mw.CreateFormFile("file", "document.xml")
		io.WriteString(fw, body) //nolint:errcheck
		mw.Close()
		resp, err := web.Post(base+"/verify", mw.FormDataContentType(), &buf)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, err
	}
	for _, shape := range worstCaseBodies() {
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				post, via := postAPI, "POST /v1/verify"
				if i == 5 {
					post, via = postForm, "POST /verify"
				}
				code, err := post(shape.body)
				record(fmt.Sprintf("%s, %s #%d", shape.name, via, i), code, err)
			}()
		}
		// the server answers its health check while it verifies
		time.Sleep(200 * time.Millisecond)
		hc := &http.Client{Timeout: 10 * time.Second}
		if resp, err := hc.Get(base + "/healthz"); err != nil {
			t.Errorf("%s: /healthz during the burst: %v", shape.name, err)
		} else {
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("%s: /healthz during the burst: %d", shape.name, resp.StatusCode)
			}
		}
		wg.Wait()
		t.Logf("%-40s peak resident %5d MB, now %5d MB", shape.name, s.status(t, "VmHWM")>>10, s.status(t, "VmRSS")>>10)
	}
	peak := s.status(t, "VmHWM")
	t.Logf("resident before %d MB; peak %d MB (limit 1536 MB); answers %v", before>>10, peak>>10, counts)
	if peak > 1536<<10 {
		t.Errorf("peak resident memory %d MB, want under 1.5 GB", peak>>10)
	}
	if s.cmd.ProcessState != nil {
		t.Fatalf("the server exited: %s", s.errs.String())
	}
}
