package web

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/trustsign/trustsign/verify"
)

// reportCSS is the report's style sheet, inlined into the self-contained report.
var reportCSS = func() string {
	b, err := assets.ReadFile("static/report.css")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// reportCSP allows exactly the inline style sheet of a served report, nothing else.
var reportCSP = func() string {
	sum := sha256.Sum256([]byte(reportCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}()

var reportTemplate = template.Must(template.New("report_doc.html").Funcs(funcs).ParseFS(assets,
	"templates/report_doc.html", "templates/report.html"))

// RenderReport writes a verification report as one self-contained HTML document (inline style, no scripts, no
// external references) in lang ("pl" or "en"; anything else is taken as "pl").
func RenderReport(w io.Writer, rep verify.FileReport, lang string) error {
	return RenderReports(w, []verify.FileReport{rep}, lang)
}

// RenderReports writes the reports of several files as one self-contained HTML document.
func RenderReports(w io.Writer, reps []verify.FileReport, lang string) error {
	return renderReports(w, reps, lang, time.Now())
}

func renderReports(w io.Writer, reps []verify.FileReport, lang string, now time.Time) error {
	if lang != "en" {
		lang = "pl"
	}
	if err := reportTemplate.ExecuteTemplate(w, "report_doc", newReportView(reps, lang, now)); err != nil {
		return fmt.Errorf("web: report: %w", err)
	}
	return nil
}

// reportView is what the report templates get.
type reportView struct {
	Lang      string
	Files     []verify.FileReport
	Generated time.Time
	CSS       template.CSS
}

// newReportView shows the reports with every signed string made printable (verify.Printable): html/template
// escapes markup, not control characters or bidirectional overrides.
func newReportView(reps []verify.FileReport, lang string, now time.Time) *reportView {
	shown := make([]verify.FileReport, len(reps))
	for i, r := range reps {
		shown[i] = r.ForDisplay()
	}
	return &reportView{Lang: lang, Files: shown, Generated: now, CSS: template.CSS(reportCSS)}
}

// T translates a catalog key.
func (r *reportView) T(key string, args ...any) string { return translate(r.Lang, key, args...) }

// Time formats a time.
func (r *reportView) Time(t any) string { return formatTime(r.Lang, t) }

// Title is the report's title: the file names.
func (r *reportView) Title() string {
	var names []string
	for _, f := range r.Files {
		names = append(names, f.File)
	}
	return r.T("report.title") + ": " + strings.Join(names, ", ")
}

// Verdict is the plain-language verdict of an indication.
func (r *reportView) Verdict(ind verify.Indication) string {
	if hasKey("ind." + string(ind)) {
		return r.T("ind." + string(ind))
	}
	return string(ind)
}

// Class is the verdict's style class.
func (r *reportView) Class(ind verify.Indication) string {
	switch ind {
	case verify.TotalPassed:
		return "ok"
	case verify.Indeterminate, verify.NoSignature:
		return "warn"
	}
	return "bad"
}

// Check names a check's outcome.
func (r *reportView) Check(c string) string {
	if hasKey("check." + c) {
		return r.T("check." + string(c))
	}
	return c
}

// CheckClass is a check outcome's style class.
func (r *reportView) CheckClass(c string) string {
	switch verify.Check(c) {
	case verify.Passed:
		return "ok"
	case verify.Failed:
		return "bad"
	}
	return "warn"
}

// FullName joins a trusted profile's names.
func (r *reportView) FullName(p *verify.TrustedProfile) string {
	return strings.Join(strings.Fields(p.FirstName+" "+p.SecondName+" "+p.Surname), " ")
}

// sigView is one signature in the report (counter-signatures nest).
type sigView struct {
	R *reportView
	S verify.SignatureReport
	// N is the signature's number: "1", or "1.2" for the second counter-signature of the first.
	N       string
	Counter bool
}

// Sig starts a signature's view; n is its number.
func (r *reportView) Sig(s verify.SignatureReport, n string) sigView {
	return sigView{R: r, S: s, N: n}
}

// CounterOf is the view of the i-th counter-signature of v's signature.
func (v sigView) CounterOf(s verify.SignatureReport, i int) sigView {
	return sigView{R: v.R, S: s, N: fmt.Sprintf("%s.%d", v.N, i+1), Counter: true}
}

// TimeStampKind names a time-stamp's kind ("signature", "document", "archive").
func (r *reportView) TimeStampKind(kind string) string { return timeStampKind(r.Lang, kind) }

// Level explains a signature's level ("XAdES-B-T", "PAdES-B-LTA") in words.
func (r *reportView) Level(level string) string { return levelText(r.Lang, level) }

func timeStampKind(lang, kind string) string {
	if hasKey("ts.kind." + kind) {
		return translate(lang, "ts.kind."+kind)
	}
	return kind
}

// levelText is a baseline level ("b-t", or as a verifier reports it, "XAdES-B-T") with what it means.
func levelText(lang, level string) string {
	l := strings.ToLower(level)
	if i := strings.LastIndex(l, "b-"); i >= 0 {
		l = l[i:]
	}
	if hasKey("level." + l) {
		return strings.ToUpper(l) + ": " + translate(lang, "level."+l)
	}
	return level
}

// Num formats a signature number from its index.
func (r *reportView) Num(i int) string { return fmt.Sprint(i + 1) }

// texts renders coded messages in the report's language; without codes (a report made before they existed) the
// English texts are shown as they are.
func (r *reportView) texts(codes []verify.Message, english []string) []string {
	if len(codes) != len(english) {
		return english
	}
	out := make([]string, len(codes))
	for i, m := range codes {
		out[i] = m.Text(r.Lang)
	}
	return out
}

// Reasons are the signature's reasons in the report's language.
func (v sigView) Reasons() []string { return v.R.texts(v.S.ReasonCodes, v.S.Reasons) }

// Warnings are the signature's warnings in the report's language.
func (v sigView) Warnings() []string { return v.R.texts(v.S.WarningCodes, v.S.Warnings) }

// Covered is what the signature covers, in the report's language.
func (v sigView) Covered() []string { return v.R.texts(v.S.CoveredCodes, v.S.Covered) }

// FileError is why a file could not be validated, in the report's language.
func (r *reportView) FileError(f verify.FileReport) string {
	if f.ErrorCode != nil {
		return f.ErrorCode.Text(r.Lang)
	}
	return f.Error
}

// FileNote is why a file has no signature, in the report's language.
func (r *reportView) FileNote(f verify.FileReport) string {
	if f.NoteCode != nil {
		return f.NoteCode.Text(r.Lang)
	}
	return f.Note
}

// ChangeKind names a kind of change after signing in the report's language.
func (r *reportView) ChangeKind(kind string) string { return verify.ChangeKindText(kind, r.Lang) }

// ChangeDetail is a change's detail in the report's language (as it is where the catalog does not know it).
func (r *reportView) ChangeDetail(detail string) string {
	return verify.ChangeDetailText(detail, r.Lang)
}

// CheckRows lists the checks of a signature in a fixed order.
func (v sigView) CheckRows() [][2]string {
	c := v.S.Checks
	return [][2]string{{"check.structure", string(c.Structure)}, {"check.digests", string(c.Digests)},
		{"check.signatureValue", string(c.SignatureValue)}, {"check.signingCertificate", string(c.SigningCertificate)},
		{"check.chain", string(c.Chain)}}
}
