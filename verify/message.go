package verify

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Message is one text of a report (a reason, a warning, what a signature covers, why a file was refused) as a
// stable code and its parameters, so that a page or report can say it in Polish or English: Text renders it. The
// English rendering is exactly the text the report's string fields (Reasons, Warnings, Covered, Error) carry.
type Message struct {
	// Code names the message, e.g. "ref.mismatch" (see MessageCodes).
	Code string `json:"code"`
	// Params fill the message's {name} placeholders.
	Params map[string]string `json:"params,omitempty"`
	// Detail fills the {detail} placeholder: a nested message (what a reference covered, why it failed).
	Detail *Message `json:"detail,omitempty"`
}

// msg builds a message from a code and name, value pairs.
func msg(code string, kv ...string) Message {
	m := Message{Code: code}
	if len(kv) > 0 {
		m.Params = make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m.Params[kv[i]] = kv[i+1]
		}
	}
	return m
}

// withDetail sets the nested message.
func (m Message) withDetail(d Message) Message {
	m.Detail = &d
	return m
}

// codeText is the code of a text that no catalog entry describes (a format library's or the system's own words,
// shown as they are).
const codeText = "text"

// Text renders the message in lang ("pl" or "en"; anything else is English). An unknown code renders as its
// parameters' text (never empty).
func (m Message) Text(lang string) string {
	e, ok := messages[m.Code]
	if !ok {
		if t, ok := m.Params["text"]; ok {
			return t
		}
		return m.Code
	}
	tmpl := e[1]
	if lang == "pl" {
		tmpl = e[0]
	}
	return placeholder.ReplaceAllStringFunc(tmpl, func(ph string) string {
		name, quote := strings.CutSuffix(ph[1:len(ph)-1], "|q")
		var v string
		if name == "detail" {
			if m.Detail != nil {
				v = m.Detail.Text(lang)
			}
		} else {
			v = m.Params[name]
			if name == "kind" {
				v = ChangeKindText(v, lang)
			}
		}
		if quote {
			return strconv.Quote(v)
		}
		return v
	})
}

// ChangeKindText names a kind of PDF change (Change.Kind, e.g. "unsigned-bytes") in lang; in English it is the
// kind itself, and an unknown kind is shown as it is.
func ChangeKindText(kind, lang string) string {
	if e, ok := messages["kind."+kind]; ok && lang == "pl" {
		return e[0]
	}
	return kind
}

// ChangeDetailText says a PDF change's detail (Change.Detail) in lang, where the catalog knows its form; otherwise
// as it is.
func ChangeDetailText(detail, lang string) string {
	if detail == "" {
		return ""
	}
	return fromLibrary(detail).Text(lang)
}

// English is the message in English (the text of the report's string fields).
func (m Message) English() string { return m.Text("en") }

// MessageCodes lists every message code, sorted.
func MessageCodes() []string {
	out := make([]string, 0, len(messages))
	for c := range messages {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// MessageLanguages are the languages every message is written in.
var MessageLanguages = []string{"pl", "en"}

// MessageTemplate returns the catalog template of code in lang ("" when there is none), for tests and tools.
func MessageTemplate(code, lang string) string {
	e, ok := messages[code]
	if !ok {
		return ""
	}
	if lang == "pl" {
		return e[0]
	}
	return e[1]
}

// placeholder matches {name} and {name|q} (quoted as Go's %q does).
var placeholder = regexp.MustCompile(`\{[a-zA-Z0-9]+(\|q)?\}`)

// messages is the one translation table of report texts: code → {Polish, English}. English templates reproduce,
// character for character, the texts reports carried before codes existed (JSON clients read them).
var messages = map[string][2]string{
	codeText: {"{text}", "{text}"},

	// files refused before any signature was looked at
	"file.notXMLOrPDF":   {"to nie jest dokument XML ani PDF: nie znaleziono podpisu", "not an XML or PDF document: no signature found"},
	"file.empty":         {"plik jest pusty: nie znaleziono podpisu", "the file is empty: no signature found"},
	"file.noSignature":   {"nie znaleziono podpisu", "no signature found"},
	"file.unreadable":    {"nie można odczytać pliku: {detail}", "the file cannot be read: {detail}"},
	"xml.tooLarge":       {"dokument XML ma {size} bajtów, więcej niż dopuszczalne {limit} bajtów", "XML document of {size} bytes exceeds the {limit}-byte limit"},
	"xml.malformed":      {"to nie jest poprawnie zbudowany, dopuszczalny dokument XML (opis błędu parsera: {detail})", "not a well-formed, acceptable XML document: {detail}"},
	"pdf.unreadable":     {"nie da się odczytać pliku jako PDF (opis błędu: {detail})", "not a readable PDF file: {detail}"},
	"pdf.userPassword":   {"dokument zaszyfrowany hasłem użytkownika: nie można go zweryfikować", "encrypted with a user password: cannot be verified"},
	"pdf.encrypted":      {"dokument zaszyfrowany nieobsługiwaną metodą lub z nieobsługiwanymi parametrami: nie można go zweryfikować (opis: {detail})", "encrypted with an unsupported security handler or parameters: cannot be verified ({detail})"},
	"verify.interrupted": {"weryfikację przerwano (opis: {detail})", "verification interrupted: {detail}"},

	// XML references
	"ref.refused":  {"odwołanie {uri|q} odrzucone: {detail}", "reference {uri|q} refused: {detail}"},
	"ref.mismatch": {"odwołanie {uri|q}: {detail}", "reference {uri|q}: {detail}"},
	"ref.notFound": {"odwołanie {uri|q}: {detail}", "reference {uri|q}: {detail}"},
	"ts.invalid":   {"znacznik czasu {n} podpisu nie jest ważny: {detail}", "signature time-stamp {n} is not valid: {detail}"},
	"sig.noData":   {"podpis nie obejmuje żadnych danych, tylko własne podpisane właściwości", "the signature covers no data, only its own signed properties"},

	// XML archive time-stamps
	"ts.archiveInvalid": {"archiwalny znacznik czasu {n} nie jest ważny: {detail}", "archive time-stamp {n} is not valid: {detail}"},

	// signing certificate (XML)
	"sig.keyValueOnly":   {"podpis zawiera tylko klucz publiczny (KeyValue), bez certyfikatu", "the signature carries only a public key (KeyValue), no certificate"},
	"sig.certSwapped":    {"odwołanie SigningCertificate nie wskazuje certyfikatu, którym zweryfikowano podpis (podmieniony certyfikat?)", "the SigningCertificate reference does not match the certificate that verified the signature (certificate swapped?)"},
	"sig.certMissing":    {"certyfikat podpisu wskazany w podpisanych właściwościach jest niedostępny", "the signing certificate named in the signed properties is not available"},
	"sig.noCertificate":  {"nie znaleziono certyfikatu podpisu", "no signing certificate found"},
	"sig.noCertProperty": {"podpis XAdES bez właściwości SigningCertificate", "XAdES signature without the SigningCertificate property"},

	// algorithms and keys
	"alg.weak": {"słaby algorytm: {algorithms}", "weak algorithm: {algorithms}"},
	"key.rsa":  {"klucz RSA ma {bits} bitów, mniej niż wymagane minimum {min} bitów", "RSA key of {bits} bits is below the {min}-bit minimum"},
	"key.ec":   {"klucz krzywej eliptycznej ma {bits} bitów: za słaby", "elliptic-curve key of {bits} bits is too weak"},
	"time.future": {"deklarowany czas podpisu {claimed} jest późniejszy niż czas weryfikacji {now}",
		"the claimed signing time {claimed} is later than the validation time {now}"},
	"time.beforeCertificate": {"deklarowany czas podpisu {claimed} jest wcześniejszy niż początek ważności certyfikatu podpisu ({notBefore})",
		"the claimed signing time {claimed} is before the signing certificate was valid (from {notBefore})"},

	// certificate chain
	"chain.noLeaf":      {"brak certyfikatu podpisu, od którego można zbudować ścieżkę certyfikacji", "no signing certificate to build a chain from"},
	"chain.noRoots":     {"nie skonfigurowano zaufanych certyfikatów głównych", "no trust roots configured"},
	"chain.keyUsage":    {"certyfikat podpisu nie może służyć do podpisywania dokumentów: {detail}", "the signing certificate may not sign documents: {detail}"},
	"chain.untrusted":   {"ścieżka certyfikacji certyfikatu podpisu nie prowadzi do zaufanego certyfikatu głównego", "signing certificate does not chain to a trusted root"},
	"chain.constraints": {"nie spełniono ograniczeń ścieżki certyfikacji (opis: {detail})", "chain constraints not met: {detail}"},
	"chain.outOfBounds": {"{detail} nie jest ważny w czasie weryfikacji {now}, a żaden znacznik czasu nie dowodzi, że podpis powstał wcześniej",
		"{detail} is not valid at the validation time {now}, and no time-stamp proves the signature existed before"},
	"chain.outOfBoundsClaimed": {"{detail} nie jest ważny w czasie weryfikacji {now}, a żaden znacznik czasu nie dowodzi, że podpis powstał wcześniej (deklarowany czas podpisu {claimed} nie jest dowodem)",
		"{detail} is not valid at the validation time {now}, and no time-stamp proves the signature existed before (the claimed signing time {claimed} is not proof)"},
	"cert.named":   {"certyfikat {subject|q} (ważny od {from} do {to})", "certificate {subject|q} (valid {from} to {to})"},
	"cert.ofChain": {"certyfikat ze ścieżki certyfikacji", "a certificate of the chain"},

	// warnings
	"warn.negativeSerial": {"certyfikat podpisującego ma ujemny numer seryjny (RFC 5280 wymaga dodatniego; tak wystawiały go dawne urzędy certyfikacji w Javie)",
		"the signer's certificate has a negative serial number (RFC 5280 requires a positive one; old Java CAs issued such certificates)"},
	"warn.claimedProfile": {"podpis wskazuje profil zaufany, ale podpisujący nie jest pieczęcią profilu zaufanego: tożsamość jest tylko deklarowana przez podpisującego (claimedProfile)",
		"the signature names a trusted profile, but its signer is not a trusted-profile seal: the identity is only claimed by the signer (claimedProfile)"},
	"warn.pdfEncrypted": {"dokument jest zaszyfrowany (standardowa metoda, puste hasło użytkownika): zweryfikowano go po odszyfrowaniu",
		"the document is encrypted (standard security handler, empty user password): it was verified decrypted"},
	"warn.contentsPadding": {"dopełnienie /Contents po CMS to zaszyfrowane zera (tak zapisują je niektóre programy), a nie zwykłe zera",
		"the /Contents padding after the CMS is encrypted zeros, as some signers write it, not plain zeros"},

	// what is covered
	"cover.wrapped": {"plik w kontenerze {name} ({mime}, {size} bajtów, SHA-256 {sha256})", "wrapped file {name} ({mime}, {size} bytes, SHA-256 {sha256})"},
	"cover.byteRangeWholeFile": {"bajty {from1}-{to1} i {from2}-{to2} z {size} (wersja {revision} z {revisions}, cały plik)",
		"bytes {from1}-{to1} and {from2}-{to2} of {size} (revision {revision} of {revisions}, the whole file)"},
	"cover.byteRangeRevision": {"bajty {from1}-{to1} i {from2}-{to2} z {size} (wersja {revision} z {revisions})",
		"bytes {from1}-{to1} and {from2}-{to2} of {size} (revision {revision} of {revisions})"},
	"cover.byteRangeIncomplete": {"bajty {from1}-{to1} i {from2}-{to2} z {size} (nie cała wersja pliku)",
		"bytes {from1}-{to1} and {from2}-{to2} of {size} (not a complete revision)"},

	// PDF signature dictionary and CMS
	"pdf.sha1SubFilter":     {"SubFilter adbe.pkcs7.sha1 podpisuje skrót SHA-1 dokumentu (słaby)", "SubFilter adbe.pkcs7.sha1 signs a SHA-1 digest of the document (weak)"},
	"pdf.docTimeStamp":      {"znaczniki czasu dokumentu (ETSI.RFC3161) nie są weryfikowane", "document time-stamps (ETSI.RFC3161) are not validated"},
	"ts.signatureInvalid":   {"znacznik czasu podpisu jest nieprawidłowy", "the signature time-stamp is not valid"},
	"ts.documentInvalid":    {"znacznik czasu dokumentu jest nieprawidłowy", "the document time-stamp is not valid"},
	"pdf.noSubFilter":       {"słownik podpisu nie ma /SubFilter", "the signature dictionary has no /SubFilter"},
	"pdf.unknownSubFilter":  {"nieobsługiwany /SubFilter {subFilter}", "unsupported /SubFilter {subFilter}"},
	"pdf.type":              {"/Type słownika podpisu to /{type}", "the signature dictionary's /Type is /{type}"},
	"cms.unusable":          {"podpisu CMS nie można użyć (opis: {detail})", "the CMS signature cannot be used: {detail}"},
	"cms.contentType":       {"typ treści CMS nie jest id-data", "the CMS content type is not id-data"},
	"cms.digestMismatch":    {"skrót wiadomości nie zgadza się z podpisanymi zakresami bajtów", "the message digest does not match the signed byte ranges"},
	"cms.sha1Mismatch":      {"skrót SHA-1 zapisany w podpisie nie jest skrótem podpisanych zakresów bajtów", "the SHA-1 digest the signature holds is not that of the signed byte ranges"},
	"cms.unsupportedAlg":    {"nieobsługiwany algorytm: {algorithm} (nie można sprawdzić wartości podpisu)", "unsupported algorithm: {algorithm} (the signature value cannot be checked)"},
	"cms.noSignerCert":      {"certyfikatu podpisującego nie ma w podpisie", "the signer's certificate is not in the signature"},
	"cms.rawMismatch":       {"podpis nie zgadza się ze skrótem podpisanych zakresów bajtów", "the signature does not verify over the digest of the signed byte ranges"},
	"cms.signatureMismatch": {"wartość podpisu nie jest prawidłowa (opis: {detail})", "the signature value does not verify: {detail}"},
	"cms.certSwapped":       {"atrybut signing-certificate nie wskazuje certyfikatu, który złożył podpis (podmieniony certyfikat?)", "the signing-certificate attribute does not name the certificate that signed (certificate swapped?)"},
	"pdf.modifiedRevision":  {"zmieniony po podpisaniu: wersja {revision}: {kind} ({detail})", "modified after signing: revision {revision}: {kind} ({detail})"},
	"pdf.modified":          {"zmieniony po podpisaniu", "modified after signing"},
	"pdf.certification":     {"podpis certyfikujący (DocMDP P={p})", "certification signature (DocMDP P={p})"},
	"pdf.unknownError":      {"nieznany błąd", "unknown error"},

	// kinds of PDF changes after a signature (pades.ChangeKind): the English is the kind itself
	"kind.signature":            {"nowy podpis", "signature"},
	"kind.dss":                  {"dane do długoterminowej weryfikacji (DSS)", "dss"},
	"kind.form-fill":            {"wypełnienie formularza", "form-fill"},
	"kind.annotation":           {"adnotacja", "annotation"},
	"kind.page-content":         {"zmiana treści strony", "page-content"},
	"kind.page-added":           {"dodana strona", "page-added"},
	"kind.signature-dictionary": {"zmiana słownika podpisu", "signature-dictionary"},
	"kind.unsigned-bytes":       {"bajty spoza podpisanych zakresów", "unsigned-bytes"},
	"kind.metadata":             {"metadane", "metadata"},
	"kind.producer-data":        {"dane programu tworzącego", "producer-data"},
	"kind.other":                {"inna zmiana", "other"},
}
