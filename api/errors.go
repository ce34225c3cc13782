package api

import (
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/verify"
)

// domainError pairs a sentinel error of a domain package with the problem the API answers for it.
type domainError struct {
	err error
	p   Problem
}

func mapped(err error, status int, slug, title, detail string) domainError {
	return domainError{err, Problem{Type: problemBase + slug, Title: title, Status: status, Detail: detail}}
}

// domainErrors is the one table from the domain packages' sentinel errors to HTTP problems. problemFor takes the
// first entry that errors.Is matches, so a more specific error comes before the one it wraps. Every exported
// sentinel of profile, signing, store, signer and verify is listed (TestEveryDomainErrorMapped parses those packages
// and fails on a new one): an error the API should never see is still listed, as a 500, so the choice is explicit.
var domainErrors = []domainError{
	// profile: registration, sessions, codes, confirmation
	mapped(profile.ErrInvalidCredentials, 401, "invalid-credentials", "Invalid login or password", ""),
	mapped(profile.ErrUnauthenticated, 401, "unauthorized", "Authentication required", ""),
	mapped(profile.ErrForbidden, 403, "forbidden", "Not allowed", ""),
	mapped(profile.ErrNotFound, 404, "not-found", "Not found", ""),
	mapped(profile.ErrInvalidCode, 422, "invalid-code", "Invalid or expired code", "The code is wrong, expired, already used or meant for something else."),
	mapped(profile.ErrCodeExpired, 422, "invalid-code", "Invalid or expired code", "The code is wrong, expired, already used or meant for something else."),
	mapped(profile.ErrCodeKilled, 422, "invalid-code", "Invalid or expired code", "The code is wrong, expired, already used or meant for something else."),
	mapped(profile.ErrCodeMismatch, 422, "invalid-code", "Invalid or expired code", "The code is wrong, expired, already used or meant for something else."),
	mapped(profile.ErrTransition, 409, "status-conflict", "Status change not allowed", ""),
	mapped(profile.ErrNotActive, 409, "profile-not-active", "The trusted profile is not active", ""),
	mapped(profile.ErrApplicationExpired, 410, "application-expired", "The application expired", "Applications must be confirmed within 14 days."),
	mapped(profile.ErrContactUnconfirmed, 409, "contact-unconfirmed", "Contact not confirmed yet", ""),
	mapped(profile.ErrAssertion, 422, "evidence-rejected", "Confirmation evidence not accepted", ""),
	mapped(profile.ErrDelivery, 502, "delivery-failed", "The message could not be delivered", "Try again later."),
	// *profile.ValidationError and *profile.ThrottledError get their field and retry time in profileProblem; these
	// are for the bare sentinels.
	mapped(profile.ErrInvalidPESEL, 422, "invalid-data", "Invalid data", "pesel: 11 digits with a valid checksum and date of birth expected"),
	mapped(profile.ErrInvalid, 422, "invalid-data", "Invalid data", ""),
	{profile.ErrBusy, errBusy.p}, // profileProblem adds its Retry-After
	mapped(profile.ErrThrottled, 429, "too-many-requests", "Too many requests", ""),
	// start-up only (profile.New): never reached by a request, a 500 if one ever were
	mapped(profile.ErrSecretMismatch, 500, "internal", "Internal error", ""),

	// signing: integrators' signing requests
	mapped(signing.ErrInvalid, 422, "invalid-data", "Invalid data", ""),
	mapped(signing.ErrUnsupportedFormat, 415, "unsupported-format", "Unsupported document format", ""),
	mapped(signing.ErrTooLarge, 413, "too-large", "Document too large", ""),
	mapped(signing.ErrNotFound, 404, "not-found", "Not found", ""),
	mapped(signing.ErrNotReady, 409, "not-signed-yet", "The document is not signed yet", ""),
	mapped(signing.ErrClosed, 409, "request-closed", "The signing request is no longer pending", ""),
	mapped(signing.ErrOtherHolder, 404, "not-found", "Not found", ""),
	mapped(signing.ErrLevelNotAllowed, 400, "level-not-allowed", "Level not allowed",
		"The service does not seal at the level asked for: ask for a lower one, or leave level out for the service's own."),
	mapped(signing.ErrSealUnavailable, 503, "seal-unavailable", "The signature cannot be made now",
		"Nothing was signed or changed; try again shortly (a code already sent still works)"),

	// store: the domain packages translate what a client may learn; what leaks through is a conflict or an outage
	mapped(store.ErrNotFound, 404, "not-found", "Not found", ""),
	mapped(store.ErrConflict, 409, "conflict", "Conflict", ""),
	mapped(store.ErrClosed, 503, "unavailable", "Service unavailable", "Try again later."),
	mapped(store.ErrLocked, 503, "unavailable", "Service unavailable", "Try again later."),
	mapped(store.ErrUnavailable, 503, "unavailable", "Service unavailable", "Try again later."),
	mapped(store.ErrInvalid, 500, "internal", "Internal error", ""),
	mapped(store.ErrCorrupt, 500, "internal", "Internal error", ""),
	// admin-only (store.Copy, opening a store): never reached by a request, a 500 if one ever were
	mapped(store.ErrNotEmpty, 500, "internal", "Internal error", ""),
	mapped(store.ErrCopyMismatch, 500, "internal", "Internal error", ""),
	mapped(store.ErrAuditTruncated, 500, "internal", "Internal error", ""),

	// signer: loading the seal happens at start-up; reaching a request is the operator's fault, never the client's
	mapped(signer.ErrNoPEM, 500, "internal", "Internal error", ""),
	mapped(signer.ErrEncryptedKey, 500, "internal", "Internal error", ""),
	mapped(signer.ErrInvalidKey, 500, "internal", "Internal error", ""),
	mapped(signer.ErrUnsupportedKey, 500, "internal", "Internal error", ""),
	mapped(signer.ErrInvalidCertificate, 500, "internal", "Internal error", ""),
	mapped(signer.ErrKeyMismatch, 500, "internal", "Internal error", ""),
	mapped(signer.ErrChainOrder, 500, "internal", "Internal error", ""),
	mapped(signer.ErrKeyUsage, 500, "internal", "Internal error", ""),
	// the seal key in a PKCS#11 token: the signing flow wraps these in signing.ErrSealUnavailable (matched above);
	// unwrapped, a token away or a signature that fails its check is the same 503, the rest are configuration
	mapped(signer.ErrTokenUnavailable, 503, "seal-unavailable", "The signature cannot be made now",
		"Nothing was signed or changed; try again shortly (a code already sent still works)"),
	mapped(signer.ErrSignatureCheck, 503, "seal-unavailable", "The signature cannot be made now",
		"Nothing was signed or changed; try again shortly (a code already sent still works)"),
	mapped(signer.ErrPKCS11URI, 500, "internal", "Internal error", ""),
	mapped(signer.ErrPKCS11Unavailable, 500, "internal", "Internal error", ""),
	mapped(signer.ErrPINFile, 500, "internal", "Internal error", ""),

	// verify: a verification answers with a report whatever the verdict; a chain failure as an error only comes
	// from checking confirmation evidence
	mapped(verify.ErrBusy, 429, "busy", "The service is busy", "Every verification slot is taken; try again in a moment."),
	mapped(verify.ErrNoChain, 422, "evidence-rejected", "Confirmation evidence not accepted", ""),
}
