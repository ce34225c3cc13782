package profile

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/store"
)

// Code purposes: a code is bound to one.
const (
	purposeContact = "contact"
	purposeSign    = "sign"
	purposeExtend  = "extend"
)

// CodeInfo describes an issued code (never the code itself).
type CodeInfo struct {
	Expires time.Time
	Channel Channel
	// Phrase is the verification phrase of the documents (signing codes only): show it next to the document so
	// the holder can compare it with the one in the message.
	Phrase string
}

// SigningDocument is one document a signing code approves.
type SigningDocument struct {
	RequestID string
	// Name is the file name shown to the holder.
	Name   string
	Digest []byte
}

// randomDigits draws n uniformly random decimal digits (rejection sampling, no modulo bias).
func randomDigits(r io.Reader, n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, 16)
	for len(out) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("profile: randomness: %w", err)
		}
		for _, b := range buf {
			if b < 250 && len(out) < n {
				out = append(out, '0'+b%10)
			}
		}
	}
	return string(out), nil
}

// bindingKey is a canonical encoding of what a code approves.
func bindingKey(bs []store.Binding) string {
	keys := make([]string, len(bs))
	for i, b := range bs {
		keys[i] = b.RequestID + ":" + hex.EncodeToString(b.Digest)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func (s *Service) codeHash(profileID, purpose string, bs []store.Binding, code string) []byte {
	return mac(s.keys.code, profileID, purpose, bindingKey(bs), code)
}

func prune(ts []time.Time, after time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(after) {
		i++
	}
	return append([]time.Time(nil), ts[i:]...)
}

// issueIn makes a new code in the caller's transaction: rate limits, hashing, storage (replacing the previous
// code of the purpose), audit. It returns the code for the message.
func (s *Service) issueIn(tx *store.Tx, p store.Profile, purpose string, bs []store.Binding, now time.Time) (string, CodeInfo, error) {
	co := s.o.Codes
	cc, err := tx.GetCodeCounters(p.ID)
	if err != nil {
		return "", CodeInfo{}, err
	}
	cc.Failures = prune(cc.Failures, now.Add(-co.FailureWindow))
	if len(cc.Failures) >= co.MaxFailures {
		return "", CodeInfo{}, throttled("code-entry", cc.Failures[0].Add(co.FailureWindow).Sub(now))
	}
	if cc.Issued == nil {
		cc.Issued = map[string][]time.Time{}
	}
	issued := prune(cc.Issued[purpose], now.Add(-co.IssueWindow))
	if n := len(issued); n > 0 && now.Sub(issued[n-1]) < co.ResendInterval {
		return "", CodeInfo{}, throttled("code-issue", issued[n-1].Add(co.ResendInterval).Sub(now))
	}
	if len(issued) >= co.MaxIssues {
		return "", CodeInfo{}, throttled("code-issue", issued[0].Add(co.IssueWindow).Sub(now))
	}
	code, err := randomDigits(s.rnd, co.Digits)
	if err != nil {
		return "", CodeInfo{}, err
	}
	c := store.Code{ProfileID: p.ID, Purpose: purpose, Hash: s.codeHash(p.ID, purpose, bs, code), Bindings: bs,
		Created: now, Expires: now.Add(co.TTL)}
	if err := tx.PutCode(c); err != nil {
		return "", CodeInfo{}, err
	}
	cc.Issued[purpose] = append(issued, now)
	if err := tx.PutCodeCounters(cc); err != nil {
		return "", CodeInfo{}, err
	}
	details := map[string]string{"purpose": purpose, "channel": p.CodeChannel, "expires": c.Expires.Format(time.RFC3339)}
	if len(bs) > 0 {
		details["requests"] = requestIDs(bs)
	}
	if err := tx.Audit(audit.Event{Time: now, Kind: "code.issue", Actor: "system", Subject: p.ID, Details: details}); err != nil {
		return "", CodeInfo{}, err
	}
	info := CodeInfo{Expires: c.Expires, Channel: Channel(p.CodeChannel)}
	if len(bs) > 0 {
		info.Phrase = VerificationPhrase(digests(bs)...)
	}
	return code, info, nil
}

func requestIDs(bs []store.Binding) string {
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.RequestID
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

func digests(bs []store.Binding) [][]byte {
	out := make([][]byte, len(bs))
	for i, b := range bs {
		out[i] = b.Digest
	}
	return out
}

// redeem checks a code in ONE store transaction (through Batch): the code must exist, be live, be bound to
// exactly want (when want is not nil) and match; a wrong entry is counted and the third kills the code; a right one
// deletes the code and runs onSuccess in the same transaction. Two concurrent redemptions of one code cannot both
// succeed: the second finds no code.
func (s *Service) redeem(ctx context.Context, profileID, purpose string, want []store.Binding, code string,
	onSuccess func(tx *store.Tx, p *store.Profile, now time.Time) error) error {
	return s.useCode(ctx, profileID, purpose, want, code, true, onSuccess)
}

// useCode is redeem; with spend false a right code is left in place (a wrong one still counts), and onSuccess runs
// only as a check (it must not write).
//
// A check (spend false) first reads in a read-only transaction: a right code, a throttle or a missing code write
// nothing, so they cost no durable commit. Only an outcome that must be recorded (a wrong or mismatched entry, an
// expired code) runs again, from the start, in a write transaction, which decides on the state it reads itself.
func (s *Service) useCode(ctx context.Context, profileID, purpose string, want []store.Binding, code string, spend bool,
	onSuccess func(tx *store.Tx, p *store.Profile, now time.Time) error) error {
	now := s.now()
	co := s.o.Codes
	code = strings.TrimSpace(code)
	var outcome error
	// readOnly: the attempt runs in a View; at the first write it would make it stops and sets mustWrite
	readOnly, mustWrite := !spend, false
	attempt := func(tx *store.Tx) error {
		outcome = nil
		p, err := tx.GetProfile(profileID)
		if errors.Is(err, store.ErrNotFound) {
			outcome = ErrInvalidCode
			return nil
		}
		if err != nil {
			return err
		}
		cc, err := tx.GetCodeCounters(p.ID)
		if err != nil {
			return err
		}
		cc.Failures = prune(cc.Failures, now.Add(-co.FailureWindow))
		if len(cc.Failures) >= co.MaxFailures {
			outcome = throttled("code-entry", cc.Failures[0].Add(co.FailureWindow).Sub(now))
			return nil
		}
		c, err := tx.GetCode(p.ID, purpose)
		if errors.Is(err, store.ErrNotFound) {
			outcome = ErrInvalidCode
			return nil
		}
		if err != nil {
			return err
		}
		if !now.Before(c.Expires) {
			outcome = ErrCodeExpired
			if readOnly {
				mustWrite = true
				return nil
			}
			if err := tx.DeleteCode(p.ID, purpose); err != nil {
				return err
			}
			return tx.Audit(audit.Event{Time: now, Kind: "code.expire", Actor: "system", Subject: p.ID,
				Details: map[string]string{"purpose": purpose}})
		}
		var reason string
		switch {
		case want != nil && bindingKey(want) != bindingKey(c.Bindings):
			reason, outcome = "binding", ErrCodeMismatch
		case len(code) != co.Digits || !allDigits(code) ||
			!hmac.Equal(s.codeHash(p.ID, purpose, c.Bindings, code), c.Hash):
			reason, outcome = "wrong", ErrInvalidCode
		}
		if outcome != nil {
			if readOnly {
				mustWrite = true
				return nil
			}
			c.Failures++
			cc.Failures = append(cc.Failures, now)
			if err := tx.PutCodeCounters(cc); err != nil {
				return err
			}
			kind := "code.fail"
			if c.Failures >= co.MaxWrong {
				kind, outcome = "code.kill", ErrCodeKilled
				if err := tx.DeleteCode(p.ID, purpose); err != nil {
					return err
				}
			} else if err := tx.PutCode(c); err != nil {
				return err
			}
			return tx.Audit(audit.Event{Time: now, Kind: kind, Actor: "holder:" + p.ID, Subject: p.ID,
				Details: map[string]string{"purpose": purpose, "reason": reason, "failures": strconv.Itoa(c.Failures)}})
		}
		if !spend {
			if onSuccess != nil {
				return onSuccess(tx, &p, now)
			}
			return nil
		}
		if err := tx.DeleteCode(p.ID, purpose); err != nil {
			return err
		}
		details := map[string]string{"purpose": purpose}
		if len(c.Bindings) > 0 {
			details["requests"] = requestIDs(c.Bindings)
		}
		if err := tx.Audit(audit.Event{Time: now, Kind: "code.redeem", Actor: "holder:" + p.ID, Subject: p.ID,
			Details: details}); err != nil {
			return err
		}
		if onSuccess != nil {
			return onSuccess(tx, &p, now)
		}
		return nil
	}
	if readOnly {
		if err := s.st.View(ctx, attempt); err != nil {
			return err
		}
		if !mustWrite {
			return outcome
		}
		readOnly = false
	}
	if err := s.st.Batch(ctx, attempt); err != nil {
		return err
	}
	return outcome
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func signingBindings(docs []SigningDocument) ([]store.Binding, error) {
	if len(docs) == 0 || len(docs) > 100 {
		return nil, invalidField("documents", "one to 100 documents per code")
	}
	seen := map[string]bool{}
	bs := make([]store.Binding, len(docs))
	for i, d := range docs {
		if d.RequestID == "" || seen[d.RequestID] {
			return nil, invalidField("requestId", "each document needs its own request id")
		}
		if len(d.Digest) < 32 {
			return nil, invalidField("digest", "a document digest of at least 256 bits is required")
		}
		seen[d.RequestID] = true
		bs[i] = store.Binding{RequestID: d.RequestID, Digest: bytes.Clone(d.Digest), DocName: cleanName(d.Name)}
	}
	return bs, nil
}

// IssueSigningCode sends the holder a code that approves exactly one document: signing request requestID whose
// document has the given digest. The message names the document and shows its verification phrase. A new
// signing code replaces the previous one. The profile must be active.
func (s *Service) IssueSigningCode(ctx context.Context, profileID, requestID, docName string, digest []byte) (CodeInfo, error) {
	return s.IssueBatchSigningCode(ctx, profileID, []SigningDocument{{RequestID: requestID, Name: docName, Digest: digest}})
}

// IssueBatchSigningCode sends one code approving several documents together (the real service's multi-sign).
func (s *Service) IssueBatchSigningCode(ctx context.Context, profileID string, docs []SigningDocument) (CodeInfo, error) {
	return s.IssueBatchSigningCodeAnd(ctx, profileID, docs, nil)
}

// IssueBatchSigningCodeAnd is IssueBatchSigningCode running record (when not nil) in the store transaction that
// issues the code, after the profile's checks and the code's limits: what record writes (the signing flow binding
// its requests to the holder) is stored exactly when the code is, in one durable commit. An error from record undoes
// both, is returned, and nothing is sent.
func (s *Service) IssueBatchSigningCodeAnd(ctx context.Context, profileID string, docs []SigningDocument,
	record func(tx *store.Tx) error) (CodeInfo, error) {
	bs, err := signingBindings(docs)
	if err != nil {
		return CodeInfo{}, err
	}
	now := s.now()
	var (
		msg  notify.Message
		info CodeInfo
	)
	// one transaction issues the code and takes the message's slot of its destination: a message the destination's
	// limit refuses leaves no code behind (the holder's last code, the one they received, still works)
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		p, err := tx.GetProfile(profileID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if !isActive(p, now) {
			return ErrNotActive
		}
		code, ci, err := s.issueIn(tx, p, purposeSign, bs, now)
		if err != nil {
			return err
		}
		info, msg = ci, s.signingMessage(p, code, bs, ci)
		refused, err := s.sendHolder.take(tx, msg, now)
		if err == nil && refused != nil {
			err = refused // nothing of this transaction is kept
		}
		if err == nil && record != nil {
			err = record(tx)
		}
		return err
	})
	if err != nil {
		return CodeInfo{}, err
	}
	if err := s.sendHolder.next.Send(ctx, msg); err != nil {
		return info, errors.Join(ErrDelivery, err)
	}
	return info, nil
}

// RedeemSigningCode checks the code for one document in one atomic transaction: it succeeds at most once, and only
// for the request and digest the code was issued for. The caller signs after a nil return.
func (s *Service) RedeemSigningCode(ctx context.Context, profileID, requestID string, digest []byte, code string) error {
	return s.RedeemBatchSigningCode(ctx, profileID, []SigningDocument{{RequestID: requestID, Digest: digest}}, code)
}

// RedeemBatchSigningCode checks a batch code: docs must be exactly the set the code was issued for.
func (s *Service) RedeemBatchSigningCode(ctx context.Context, profileID string, docs []SigningDocument, code string) error {
	return s.RedeemBatchSigningCodeAnd(ctx, profileID, docs, code, nil)
}

// CheckBatchSigningCode checks a batch code as RedeemBatchSigningCode does, and counts a wrong or mismatched entry
// the same way, but leaves a right code unspent. The signing flow checks, then seals, then redeems with
// RedeemBatchSigningCodeAnd: a seal that cannot be made now leaves the code usable for a retry.
func (s *Service) CheckBatchSigningCode(ctx context.Context, profileID string, docs []SigningDocument, code string) error {
	bs, err := signingBindings(docs)
	if err != nil {
		return err
	}
	return s.useCode(ctx, profileID, purposeSign, bs, code, false, checkActive)
}

// RedeemBatchSigningCodeAnd redeems a batch code and runs record (when not nil) in the same store transaction: the
// code is spent exactly when what record writes (the signed documents) is stored. An error from record, or from
// the commit, undoes both and is returned; the code can then be used again.
func (s *Service) RedeemBatchSigningCodeAnd(ctx context.Context, profileID string, docs []SigningDocument, code string,
	record func(tx *store.Tx) error) error {
	bs, err := signingBindings(docs)
	if err != nil {
		return err
	}
	return s.redeem(ctx, profileID, purposeSign, bs, code, func(tx *store.Tx, p *store.Profile, now time.Time) error {
		if err := checkActive(tx, p, now); err != nil || record == nil {
			return err
		}
		return record(tx)
	})
}

func checkActive(_ *store.Tx, p *store.Profile, now time.Time) error {
	if !isActive(*p, now) {
		return ErrNotActive
	}
	return nil
}

func isActive(p store.Profile, now time.Time) bool {
	return Status(p.Status) == Active && p.Expires != nil && now.Before(*p.Expires)
}

// cleanName makes a file name safe to show in a message: no control or bidi characters, at most 60 characters.
func cleanName(n string) string {
	var b strings.Builder
	for _, r := range n {
		if unicode.IsControl(r) || unicode.In(r, unicode.Bidi_Control) || r == '\u200b' || r == '"' || r == '„' || r == '”' {
			continue
		}
		b.WriteRune(r)
	}
	out := []rune(strings.TrimSpace(b.String()))
	if len(out) > 60 {
		out = append(out[:57], '…')
	}
	if len(out) == 0 {
		return "dokument"
	}
	return string(out)
}

// VerificationPhrase derives three Polish words (24 bits) from SHA-256 of the document digests, in the order
// given: the same phrase appears in the code message and next to the document on screen, so the holder can tell
// which document a code approves. Smart-ID shows 4 digits (about 13 bits); three words are easier to compare and
// harder to match by chance. The three words are different ("kot kot lis" is never shown): a byte that repeats an
// earlier word is skipped for the next one. The words are SMS-safe ASCII; DisplayPhrase spells them in Polish.
func VerificationPhrase(digests ...[]byte) string {
	h := sha256.New()
	h.Write([]byte("trustsign-phrase-v1"))
	for _, d := range digests {
		h.Write([]byte{byte(len(d))})
		h.Write(d)
	}
	sum := h.Sum(nil)
	var words []string
	var seen [256]bool
	for len(words) < 3 {
		for _, b := range sum {
			if !seen[b] && len(words) < 3 {
				seen[b] = true
				words = append(words, phraseWords[b])
			}
		}
		next := sha256.Sum256(sum) // 32 bytes with fewer than 3 values: practically never
		sum = next[:]
	}
	return strings.Join(words, " ")
}

// DisplayPhrase spells a verification phrase's words with their Polish letters ("golab" → "gołąb") for the screen:
// the code message carries the ASCII form (SMS-safe), the page the word as it is written.
func DisplayPhrase(phrase string) string {
	words := strings.Fields(phrase)
	for i, w := range words {
		if p, ok := phraseSpelling[w]; ok {
			words[i] = p
		}
	}
	return strings.Join(words, " ")
}

// phraseSpelling is the Polish spelling of the phrase words written without diacritics.
var phraseSpelling = map[string]string{
	"cegla": "cegła", "golab": "gołąb", "gora": "góra", "jablko": "jabłko", "jodla": "jodła", "kamien": "kamień",
	"miotla": "miotła", "mrowka": "mrówka", "ogien": "ogień", "ogorek": "ogórek", "osiol": "osioł", "pajak": "pająk",
	"pedzel": "pędzel", "pilka": "piłka", "pioro": "pióro", "plaza": "plaża", "sandal": "sandał", "sledz": "śledź",
	"slon": "słoń", "stol": "stół", "wazka": "ważka", "wieza": "wieża", "wrobel": "wróbel", "zurek": "żurek",
	"czolg": "czołg", "jelen": "jeleń", "jez": "jeż", "ksiezyc": "księżyc", "lodz": "łódź", "maslo": "masło",
	"miod": "miód", "mlyn": "młyn", "orzel": "orzeł", "plaszcz": "płaszcz", "pociag": "pociąg", "rog": "róg",
	"sciezka": "ścieżka", "slimak": "ślimak", "sloik": "słoik", "strzala": "strzała", "swieca": "świeca",
	"szkola": "szkoła", "trabka": "trąbka", "waz": "wąż", "zajac": "zając", "zolw": "żółw", "sierpien": "sierpień",
	"pierog": "pieróg", "zboze": "zboże", "kolo": "koło", "pszczola": "pszczoła", "zlota": "złota",
}

// phraseWords: 256 distinct, common Polish nouns without diacritics (SMS-safe), 3 to 8 letters.
var phraseWords = func() [256]string {
	var out [256]string
	ws := strings.Fields(phraseList)
	if len(ws) != 256 {
		panic(fmt.Sprintf("profile: %d phrase words, want 256", len(ws)))
	}
	seen := map[string]bool{}
	for i, w := range ws {
		if seen[w] {
			panic("profile: duplicate phrase word " + w)
		}
		seen[w] = true
		out[i] = w
	}
	return out
}()

const phraseList = `
akacja album arbuz balon banan bazar beczka bilet blok bluza bochen boisko brama brzoza bucik budka
burak cebula cegla chleb chmura cukier cyrk czapka czajnik deska dolina domek dywan dzwon fala farba
figa film flaga foka fotel garnek gitara glina gofr golab gora gruszka guzik halka hamak herbata
iglo indyk jablko jagoda jajko jezioro jodla kabel kaczka kajak kakao kamien kanapa karp kasza kawa
klucz kogut kolano komin koral koszyk kotwica kreda kubek kura lampa las latarka lew lilia lipa
list lody lotnik malina mapa marchew maska miotla miska most motyl mrowka muszla nasiono niebo noga
nora notes obraz ocean ogien ogorek okno oliwa orzech osiol owca pajak palma papier park pasek
pedzel piasek pilka pioro plaza plot pomidor pralka ptak puszka rakieta ramka rower ryba rzeka sad
sandal sanki sarna serce sikorka skala sledz slon sowa stol szafa szalik szklanka szyszka tama teczka
tort traktor trawa tulipan tygrys ucho ulica wagon waza wazka wiadro wiatr widelec wieza wiosna woda
wrobel zamek zebra zegar ziarno zielnik zupa zurek balkon baran bez blat bursztyn cytryna czolg dach
dzik dynia echo gniazdo grzyb jelen jez kompas konik koszula kot kruk krzeslo ksiezyc lis lodz
lustro mak maslo miod mleko mlyn moneta morze nos orzel pies plaszcz pociag port rog rondel
rumianek sciezka ser siano skrzynia slimak sloik smok sok sosna statek strzala sufit swieca szachy szkola
tarcza torba trabka wafel wanna waz wilk wino zabawka zajac zlota zolw wydma kokos kolo pszczola
rybak lipiec sierpien grudzien sanie perla jantar kompot bigos pierog chata stodola lawa kasztan zboze kwiat
`
