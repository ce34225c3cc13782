package store

import "time"

// Profile is the storage record of a trusted-profile application or profile (the account and the profile are one
// record here). Status values are owned by package profile; the store only indexes them.
type Profile struct {
	ID                string `json:"id"`
	ApplicationNumber string `json:"applicationNumber"`
	// Login is as the holder typed it; LoginKey is its normalised form (lower case) used by the unique index.
	Login    string `json:"login"`
	LoginKey string `json:"loginKey"`
	// PasswordHash is a PHC-format argon2id string.
	PasswordHash string `json:"passwordHash"`
	FirstName    string `json:"firstName"`
	SecondName   string `json:"secondName,omitempty"`
	Surname      string `json:"surname"`
	PESEL        string `json:"pesel"`
	// PESELHash is the keyed hash of the PESEL; the unique index key (the PESEL never appears in a key).
	PESELHash   []byte `json:"peselHash"`
	Email       string `json:"email"`
	Phone       string `json:"phone"`
	CodeChannel string `json:"codeChannel"`
	Status      string `json:"status"`
	Temporary   bool   `json:"temporary,omitempty"`
	// Decoy marks an application filed with a login or PESEL that was already taken: it behaves like any
	// pending application towards its applicant (codes, resends, confirmation document) but holds only the
	// indexes that were free and can never be confirmed.
	Decoy bool `json:"decoy,omitempty"`
	// SharesPESEL marks a (real) application filed while another pending application held its PESEL: a pending
	// application does not own a PESEL, the confirmation decides who is real. It takes no PESEL index; its
	// confirmation claims it (Tx.ClaimPESEL).
	SharesPESEL bool `json:"sharesPesel,omitempty"`
	// ApplicationSecretHash is the keyed hash of the secret handed out with the registration answer (the
	// confirmation document is given only to whoever presents it).
	ApplicationSecretHash []byte `json:"applicationSecretHash,omitempty"`

	ContactConfirmedAt *time.Time `json:"contactConfirmedAt,omitempty"`
	Created            time.Time  `json:"created"`
	Updated            time.Time  `json:"updated"`
	// ApplicationExpires is when a pending application lapses (indexed while Status is "pending").
	ApplicationExpires time.Time  `json:"applicationExpires"`
	ActivatedAt        *time.Time `json:"activatedAt,omitempty"`
	// Expires is when an active profile lapses (indexed while Status is "active").
	Expires *time.Time `json:"expires,omitempty"`

	Confirmation *Confirmation `json:"confirmation,omitempty"`
	// History holds every status transition, oldest first.
	History []Transition `json:"history,omitempty"`
}

// Confirmation records how a profile was confirmed.
type Confirmation struct {
	// Method is "in-person", "idp", "qualified-certificate" or "video-call".
	Method string    `json:"method"`
	At     time.Time `json:"at"`
	// By identifies who or what confirmed: an officer id, an IdP issuer, a certificate subject and serial.
	By string `json:"by"`
	// DocumentType is "id-card" or "passport" for officer confirmations.
	DocumentType string `json:"documentType,omitempty"`
	// DocumentHash is the keyed hash of the identity document number.
	DocumentHash []byte            `json:"documentHash,omitempty"`
	Details      map[string]string `json:"details,omitempty"`
}

// Transition is one status change of a profile.
type Transition struct {
	From   string    `json:"from"`
	To     string    `json:"to"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Reason string    `json:"reason,omitempty"`
}

// Officer is a confirmation-point official.
type Officer struct {
	ID           string    `json:"id"`
	Login        string    `json:"login"`
	LoginKey     string    `json:"loginKey"`
	Name         string    `json:"name,omitempty"`
	PasswordHash string    `json:"passwordHash"`
	Created      time.Time `json:"created"`
	Disabled     bool      `json:"disabled,omitempty"`
}

// Client is an integrator API client. Only the hash of its key is stored.
type Client struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Scopes   []string  `json:"scopes"`
	KeyHash  []byte    `json:"keyHash"`
	Created  time.Time `json:"created"`
	Disabled bool      `json:"disabled,omitempty"`
}

// Binding is what a signing code approves: one signing request and the digest of its document.
type Binding struct {
	RequestID string `json:"requestId"`
	Digest    []byte `json:"digest"`
	DocName   string `json:"docName,omitempty"`
}

// Code is a one-time code. Only its keyed hash is stored. There is at most one live code per profile and purpose:
// storing a new one replaces (invalidates) the previous one.
type Code struct {
	ProfileID string    `json:"profileId"`
	Purpose   string    `json:"purpose"`
	Hash      []byte    `json:"hash"`
	Bindings  []Binding `json:"bindings,omitempty"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
	// Failures counts wrong entries; the consumer deletes the code when it reaches its limit.
	Failures int `json:"failures"`
}

// CodeCounters are per-profile counters for code rate limits.
type CodeCounters struct {
	ProfileID string `json:"profileId"`
	// Issued holds the issue times within the rate-limit window, per purpose (oldest first).
	Issued map[string][]time.Time `json:"issued,omitempty"`
	// Failures holds the times of wrong entries within the failure window (oldest first).
	Failures []time.Time `json:"failures,omitempty"`
}

// Session is a login session. The token itself is never stored, only its hash (the key).
type Session struct {
	TokenHash []byte `json:"tokenHash"`
	// Role is "holder" or "officer"; SubjectID is the profile or officer id.
	Role      string    `json:"role"`
	SubjectID string    `json:"subjectId"`
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"lastSeen"`
	// IdleExpires moves forward with use; AbsoluteExpires never does.
	IdleExpires     time.Time `json:"idleExpires"`
	AbsoluteExpires time.Time `json:"absoluteExpires"`
}

// LoginThrottle counts login attempts for one key (existing or not): a login key, or the profile service's
// per-address key for one login. The service records an attempt as a failure before it checks the password and
// takes it back when the password was right.
type LoginThrottle struct {
	LoginKey string      `json:"loginKey"`
	Failures []time.Time `json:"failures,omitempty"`
	// Known holds keyed hashes of client addresses that logged in to this login successfully (newest last).
	Known []string `json:"known,omitempty"`
	// KeepUntil keeps the record (its Known addresses) past its last failure.
	KeepUntil time.Time `json:"keepUntil,omitempty"`
}

// RateWindow holds the times of recent events under one key (a message destination, a client address, a
// profile's duplicate-registration notices), oldest first: a sliding-window limit that survives restarts.
type RateWindow struct {
	Key   string      `json:"key"`
	Times []time.Time `json:"times,omitempty"`
}

// SigningRequest is an integrator's request to have a document signed by a profile holder. Document and Signed
// are stored apart from the metadata and are filled only by the reads that say so.
type SigningRequest struct {
	ID       string `json:"id"`
	ClientID string `json:"clientId"`
	// BatchID groups the requests one code confirms together (optional).
	BatchID string `json:"batchId,omitempty"`
	// Status is owned by the API (e.g. "pending", "signed", "failed", "expired"); the store compares and sets it.
	Status         string `json:"status"`
	FileName       string `json:"fileName"`
	Format         string `json:"format"`
	ContentType    string `json:"contentType,omitempty"`
	Digest         []byte `json:"digest"`
	DocumentSize   int64  `json:"documentSize"`
	ProfileID      string `json:"profileId,omitempty"`
	SuccessURL     string `json:"successUrl,omitempty"`
	FailureURL     string `json:"failureUrl,omitempty"`
	AdditionalInfo string `json:"additionalInfo,omitempty"`
	// Webhook asks for a POST to SuccessURL or FailureURL when the request ends.
	Webhook  bool       `json:"webhook,omitempty"`
	Created  time.Time  `json:"created"`
	Updated  time.Time  `json:"updated"`
	Expires  time.Time  `json:"expires"`
	SignedAt *time.Time `json:"signedAt,omitempty"`
	// SignedContentType is the media type of Signed.
	SignedContentType string `json:"signedContentType,omitempty"`
	SignedSize        int64  `json:"signedSize,omitempty"`
	// FailureReason is a fixed, client-safe text when Status is a failure.
	FailureReason string `json:"failureReason,omitempty"`
	// Level is the baseline level the seal is made at ("b-b", "b-t", "b-lt", "b-lta"; empty in records made before
	// levels: b-b).
	Level string `json:"level,omitempty"`
	// TimeStamps are the time-stamps the seal got, as the TSA answered them (checked when they were made).
	TimeStamps []SealTimeStamp `json:"timeStamps,omitempty"`
	// SealFingerprint and SealSubject name the seal that signed (its certificate's SHA-256, "sha256:" and hex, and
	// its subject): after a rotation, which seal made which signature (empty in records made before).
	SealFingerprint string `json:"sealFingerprint,omitempty"`
	SealSubject     string `json:"sealSubject,omitempty"`

	Document []byte `json:"-"`
	Signed   []byte `json:"-"`
}

// SealTimeStamp is one time-stamp a seal got: its kind ("signature", "archive" or "document"), the TSA's time
// and the subject of the TSA's certificate.
type SealTimeStamp struct {
	Kind string    `json:"kind"`
	Time time.Time `json:"time"`
	TSA  string    `json:"tsa"`
}

// MaintenanceWindow is an announced period when login and signing are unavailable.
type MaintenanceWindow struct {
	ID        string    `json:"id"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Message   string    `json:"message"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"createdBy,omitempty"`
}
