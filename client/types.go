package client

import (
	"encoding/json"
	"time"
)

// Channel is where codes go.
type Channel string

// Code channels.
const (
	SMS   Channel = "sms"
	Email Channel = "email"
)

// Application is a citizen's application for a trusted profile.
type Application struct {
	Login       string  `json:"login"`
	Password    string  `json:"password"`
	FirstName   string  `json:"firstName"`
	SecondName  string  `json:"secondName,omitempty"`
	Surname     string  `json:"surname"`
	PESEL       string  `json:"pesel"`
	Email       string  `json:"email"`
	Phone       string  `json:"phone"`
	CodeChannel Channel `json:"codeChannel"`
}

// Registration is the answer to an application: the profile id (for contact confirmation) and the application
// number (for the officer).
type Registration struct {
	ID                string `json:"id"`
	ApplicationNumber string `json:"applicationNumber"`
	Status            string `json:"status"`
	// ApplicationSecret fetches the qualified confirmation document (QualifiedConfirmationDocument).
	ApplicationSecret string `json:"applicationSecret"`
}

// Session is an opened session. Token is the credential for SessionToken.
type Session struct {
	Token   string    `json:"token"`
	Role    string    `json:"role"`
	Expires time.Time `json:"expires"`
}

// Confirmation says how a profile was confirmed.
type Confirmation struct {
	Method       string    `json:"method"`
	At           time.Time `json:"at"`
	DocumentType string    `json:"documentType,omitempty"`
}

// Profile is a trusted profile (or an application) as the API shows it.
type Profile struct {
	ID                 string        `json:"id"`
	ApplicationNumber  string        `json:"applicationNumber"`
	Login              string        `json:"login"`
	FirstName          string        `json:"firstName"`
	SecondName         string        `json:"secondName,omitempty"`
	Surname            string        `json:"surname"`
	PESEL              string        `json:"pesel"`
	Email              string        `json:"email"`
	Phone              string        `json:"phone"`
	CodeChannel        Channel       `json:"codeChannel"`
	Status             string        `json:"status"`
	Temporary          bool          `json:"temporary"`
	ContactConfirmed   bool          `json:"contactConfirmed"`
	Created            time.Time     `json:"created"`
	ApplicationExpires *time.Time    `json:"applicationExpires,omitempty"`
	Expires            *time.Time    `json:"expires,omitempty"`
	Confirmation       *Confirmation `json:"confirmation,omitempty"`
}

// CodeInfo describes a code that was sent (never the code itself).
type CodeInfo struct {
	ExpiresAt time.Time `json:"expiresAt"`
	Channel   Channel   `json:"channel"`
	// Phrase is the verification phrase of the documents (signing codes): the same words are in the message.
	Phrase string `json:"verificationPhrase,omitempty"`
}

// Document types an officer checks.
const (
	IDCard   = "id-card"
	Passport = "passport"
)

// IdentityDocument is the document an officer checked.
type IdentityDocument struct {
	DocumentType   string `json:"documentType"`
	DocumentNumber string `json:"documentNumber"`
}

// Format is a signature format.
type Format string

// Formats: XAdES for XML (other files are wrapped in an XML container), PAdES for PDF, Auto picks by content.
const (
	XAdES Format = "xades"
	PAdES Format = "pades"
	Auto  Format = "auto"
)

// Submission is one document for signing.
type Submission struct {
	Document []byte
	FileName string
	// Format defaults to Auto.
	Format         Format
	SuccessURL     string
	FailureURL     string
	AdditionalInfo string
	// Webhook asks the service to POST {id, batchId, status, signedAt} to SuccessURL (signed) or FailureURL
	// (cancelled, expired, failed) when the request ends; both URLs are then required. Act on a notification
	// only after reading the status through the API: the notification itself is not authenticated.
	Webhook bool
	// Level is the baseline level to seal at: "b-b", "b-t", "b-lt" or "b-lta", up to the service's configured
	// level (a higher one is a 400 problem level-not-allowed); empty: the service's level.
	Level string
}

// BatchDocument is one document of a batch.
type BatchDocument struct {
	Document []byte
	FileName string
	// Format defaults to the batch's.
	Format Format
}

// BatchSubmission is several documents confirmed with one code.
type BatchSubmission struct {
	Documents      []BatchDocument
	Format         Format
	SuccessURL     string
	FailureURL     string
	AdditionalInfo string
	// Webhook: see Submission.Webhook.
	Webhook bool
	// Level: see Submission.Level.
	Level string
}

type submissionJSON struct {
	Document       string           `json:"document,omitempty"`
	FileName       string           `json:"fileName,omitempty"`
	Format         string           `json:"format,omitempty"`
	SuccessURL     string           `json:"successUrl,omitempty"`
	FailureURL     string           `json:"failureUrl,omitempty"`
	AdditionalInfo string           `json:"additionalInfo,omitempty"`
	Webhook        bool             `json:"webhook,omitempty"`
	Documents      []submissionJSON `json:"documents,omitempty"`
	Level          string           `json:"level,omitempty"`
}

// Signing request statuses.
const (
	StatusPending   = "pending"
	StatusSigned    = "signed"
	StatusExpired   = "expired"
	StatusCancelled = "cancelled"
	StatusFailed    = "failed"
)

// SigningRequest is a signing request as the integrator and the holder see it.
type SigningRequest struct {
	ID             string     `json:"id"`
	BatchID        string     `json:"batchId,omitempty"`
	Status         string     `json:"status"`
	SignURL        string     `json:"signUrl"`
	ExpiresAt      time.Time  `json:"expiresAt"`
	FileName       string     `json:"fileName"`
	Format         Format     `json:"format"`
	ContentType    string     `json:"contentType,omitempty"`
	Size           int64      `json:"size"`
	AdditionalInfo string     `json:"additionalInfo,omitempty"`
	Created        time.Time  `json:"created"`
	SignedAt       *time.Time `json:"signedAt,omitempty"`
	FailureReason  string     `json:"failureReason,omitempty"`
	Phrase         string     `json:"verificationPhrase"`
	// Level is the baseline level of the seal; TimeStamps are its time-stamps once signed (b-t and above).
	Level      string          `json:"level,omitempty"`
	TimeStamps []SealTimeStamp `json:"timestamps,omitempty"`
	// Seal names the seal that signed, once signed (after a rotation: which seal made this signature).
	Seal *Seal `json:"seal,omitempty"`
}

// Seal is a seal's certificate: Fingerprint is "sha256:" and the hex SHA-256 of its DER, Subject its subject.
type Seal struct {
	Fingerprint string `json:"fingerprint"`
	Subject     string `json:"subject"`
}

// SealTimeStamp is one time-stamp of a seal: Kind "signature", "archive" or "document", the TSA's time and the
// subject of its certificate.
type SealTimeStamp struct {
	Kind string    `json:"kind"`
	Time time.Time `json:"time"`
	TSA  string    `json:"tsa"`
}

// Batch is the answer to SubmitBatch: the first request's id and sign URL (hand these to the holder) and every
// request of the batch.
type Batch struct {
	ID        string           `json:"id"`
	BatchID   string           `json:"batchId"`
	Status    string           `json:"status"`
	SignURL   string           `json:"signUrl"`
	ExpiresAt time.Time        `json:"expiresAt"`
	Phrase    string           `json:"verificationPhrase"`
	Requests  []SigningRequest `json:"requests"`
}

// PreviewDocument is one document the holder is asked to sign.
type PreviewDocument struct {
	SigningRequest
	// Document is the document itself.
	Document []byte `json:"document"`
}

// Preview is what the holder sees before asking for a code.
type Preview struct {
	Phrase    string            `json:"verificationPhrase"`
	Documents []PreviewDocument `json:"documents"`
}

// SigningResult is the answer to Confirm and Cancel.
type SigningResult struct {
	Status string `json:"status"`
	// RedirectURL is where the holder goes next (the integrator's success or failure URL).
	RedirectURL string           `json:"redirectUrl,omitempty"`
	Requests    []SigningRequest `json:"requests"`
}

// LookupResult is a profile found by PESEL.
type LookupResult struct {
	// Status is active, invalid, expired or revoked.
	Status             string     `json:"status"`
	ProfileID          string     `json:"profileId"`
	Login              string     `json:"login"`
	FirstName          string     `json:"firstName"`
	SecondName         string     `json:"secondName,omitempty"`
	Surname            string     `json:"surname"`
	PESEL              string     `json:"pesel"`
	Email              string     `json:"email"`
	Phone              string     `json:"phone"`
	ConfirmationMethod string     `json:"confirmationMethod"`
	Temporary          bool       `json:"temporary"`
	Created            time.Time  `json:"created"`
	Expires            *time.Time `json:"expires,omitempty"`
}

// VerificationReport is the report of POST /v1/verify (the same JSON as `trustsign verify --json`). The fields
// most callers need are typed; Raw holds the whole report.
type VerificationReport struct {
	File       string            `json:"file"`
	Format     string            `json:"format"`
	Indication string            `json:"indication"`
	Signatures []SignatureReport `json:"signatures"`
	Error      string            `json:"error,omitempty"`
	Raw        json.RawMessage   `json:"-"`
}

// SignatureReport is one signature of a VerificationReport.
type SignatureReport struct {
	ID            string     `json:"id"`
	Indication    string     `json:"indication"`
	SubIndication string     `json:"subIndication,omitempty"`
	Signer        *Signer    `json:"signer"`
	SigningTime   *time.Time `json:"signingTime"`
	// SigningTimeSource is "claimed": the signer's own claim, not a proof of existence.
	SigningTimeSource string          `json:"signingTimeSource,omitempty"`
	TrustedProfile    *TrustedProfile `json:"trustedProfile"`
	// ClaimedProfile is an identity written by a signer that is not a configured trusted-profile seal.
	ClaimedProfile *TrustedProfile   `json:"claimedProfile,omitempty"`
	Checks         map[string]string `json:"checks"`
	Reasons        []string          `json:"reasons,omitempty"`
	Warnings       []string          `json:"warnings,omitempty"`
	Algorithm      string            `json:"algorithm,omitempty"`
	Level          string            `json:"level,omitempty"`
}

// Signer is the certificate that made a signature.
type Signer struct {
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	Serial  string `json:"serial"`
}

// TrustedProfile is the profile identity a trusted signature carries.
type TrustedProfile struct {
	FirstName  string `json:"firstName"`
	SecondName string `json:"secondName,omitempty"`
	Surname    string `json:"surname"`
	PESEL      string `json:"pesel"`
	ProfileID  string `json:"profileId"`
	Login      string `json:"login"`
}

// Verification indications.
const (
	TotalPassed = "TOTAL_PASSED"
	TotalFailed = "TOTAL_FAILED"
)

// MaintenanceWindow is an announced maintenance window: login and signing are unavailable during it.
type MaintenanceWindow struct {
	ID      string    `json:"id"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Message string    `json:"message"`
	Active  bool      `json:"active"`
}

// MaintenanceSchedule is the answer of GET /v1/maintenance.
type MaintenanceSchedule struct {
	Windows []MaintenanceWindow `json:"windows"`
	Now     time.Time           `json:"now"`
}

type codeBody struct {
	Code string `json:"code"`
}

type loginBody struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

type passwordResetRequestBody struct {
	Login string `json:"login"`
}

type passwordResetBody struct {
	Login    string `json:"login"`
	Code     string `json:"code"`
	Password string `json:"password"`
}

// WebhookNotification is the body the service POSTs to the integrator's URL when a request submitted with Webhook
// ends.
type WebhookNotification struct {
	ID       string     `json:"id"`
	BatchID  string     `json:"batchId,omitempty"`
	Status   string     `json:"status"`
	SignedAt *time.Time `json:"signedAt,omitempty"`
}
