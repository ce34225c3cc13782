package verify

// longTermMessages are the catalog entries of long-term validation (longterm.go): proofs of existence and
// revocation data.
var longTermMessages = map[string][2]string{
	"chain.outOfBoundsPOE": {"{detail} nie był ważny w chwili {poe}, której istnienie podpisu dowodzi znacznik czasu",
		"{detail} was not valid at {poe}, when a time-stamp proves the signature existed"},
	"rev.revoked": {"certyfikat {subject|q} unieważniono {revokedAt}, nie później niż {poe}, kiedy według znacznika czasu podpis już istniał",
		"certificate {subject|q} was revoked at {revokedAt}, not after {poe}, when a time-stamp proves the signature existed"},
	"rev.revokedNoPOE": {"certyfikat {subject|q} unieważniono {revokedAt}, a żaden znacznik czasu nie dowodzi, że podpis powstał wcześniej",
		"certificate {subject|q} was revoked at {revokedAt}, and no time-stamp proves the signature existed before"},
	"rev.revokedCA": {"certyfikat urzędu {subject|q} ze ścieżki certyfikacji unieważniono {revokedAt}, a nic nie dowodzi, że podpis powstał wcześniej",
		"CA certificate {subject|q} of the chain was revoked at {revokedAt}, and nothing proves the signature existed before"},
	"rev.revokedAfterPOE": {"certyfikat {subject|q} unieważniono {revokedAt}, po chwili {poe}, w której według znacznika czasu podpis już istniał: podpis pozostaje ważny",
		"certificate {subject|q} was revoked at {revokedAt}, after {poe}, when a time-stamp proves the signature existed: the signature stands"},
	"rev.revokedCompromised": {"certyfikat {subject|q} ze ścieżki urzędu znacznika czasu unieważniono {revokedAt} z powodu kompromitacji klucza ({reason}): jego znaczniki czasu nie są dowodem, także te datowane wcześniej",
		"certificate {subject|q} of the time-stamping authority's chain was revoked at {revokedAt} for a key compromise ({reason}): its time-stamps prove nothing, even those dated before"},
	"rev.suspended": {"certyfikat {subject|q} jest zawieszony od {revokedAt}: spróbuj później",
		"certificate {subject|q} is suspended (on hold) since {revokedAt}: try later"},
	"rev.suspendedAfterPOE": {"certyfikat {subject|q} zawieszono {revokedAt}, po chwili {poe}, w której według znacznika czasu podpis już istniał",
		"certificate {subject|q} was suspended at {revokedAt}, after {poe}, when a time-stamp proves the signature existed"},
	"rev.tryLater": {"brak aktualnych danych o unieważnieniu certyfikatu {subject|q} w czasie weryfikacji {now} (użytecznych odpowiedzi: {n}, żadna nie jest aktualna): spróbuj później",
		"no current revocation data for certificate {subject|q} at the validation time {now} ({n} usable answers, none current): try later"},
	"rev.tryLaterPOE": {"brak danych o unieważnieniu certyfikatu {subject|q} wydanych po {poe}, kiedy według znacznika czasu podpis już istniał (użytecznych odpowiedzi: {n}, wszystkie wcześniejsze): spróbuj później",
		"no revocation data for certificate {subject|q} issued after {poe}, when a time-stamp proves the signature existed ({n} usable answers, all earlier): try later"},
	"rev.outOfBounds": {"certyfikat {subject|q} wygasł {notAfter}, a żadne dane o unieważnieniu wydane w okresie jego ważności, po {poe}, nie pokazują jego statusu",
		"certificate {subject|q} expired at {notAfter}, and no revocation data issued while it was valid, after {poe}, shows its status"},
	"rev.signerExpired": {"dane o unieważnieniu certyfikatu {subject|q} podpisał {signer|q}, którego certyfikat wygasł {notAfter}, a żaden znacznik czasu nie dowodzi, że dane istniały wcześniej",
		"the revocation data for certificate {subject|q} is signed by {signer|q}, whose certificate expired at {notAfter}, and no time-stamp proves the data existed before"},
	"rev.noSource": {"nie sprawdzono unieważnienia: certyfikat nie wskazuje źródła danych o unieważnieniu (OCSP, CRL), a podpis ich nie zawiera",
		"revocation not checked: the certificate names no source of revocation data (OCSP, CRL) and the signature carries none"},
	"rev.fetchFailed": {"nie udało się pobrać danych o unieważnieniu (opis: {detail})", "fetching revocation data failed: {detail}"},
}

func init() {
	for code, e := range longTermMessages {
		messages[code] = e
	}
}
