package profile

import (
	"errors"
	"fmt"
	"time"
)

// Errors returned by the service. The API maps each to one HTTP status and a fixed message; details (a
// *ValidationError's field) may be shown to the caller, nothing else.
var (
	// ErrInvalid: input data break a rule (wrapped by *ValidationError, which names the field).
	ErrInvalid = errors.New("profile: invalid data")
	// ErrNotFound: no such profile, application, officer or client (never returned where it would reveal
	// whether a login or PESEL exists to an unauthorised caller).
	ErrNotFound = errors.New("profile: not found")
	// ErrInvalidCode: the code is wrong, expired, used, killed, superseded or meant for something else. The
	// finer errors below wrap it; show callers only this one.
	ErrInvalidCode = errors.New("profile: invalid or expired code")
	// ErrCodeExpired: the code's lifetime is over (wraps ErrInvalidCode).
	ErrCodeExpired = fmt.Errorf("%w: expired", ErrInvalidCode)
	// ErrCodeKilled: this wrong entry was the last allowed; the code is gone (wraps ErrInvalidCode).
	ErrCodeKilled = fmt.Errorf("%w: too many wrong entries, code invalidated", ErrInvalidCode)
	// ErrCodeMismatch: the code exists but is bound to another request or document (wraps ErrInvalidCode).
	ErrCodeMismatch = fmt.Errorf("%w: bound to another request or document", ErrInvalidCode)
	// ErrThrottled: too many attempts or codes; see *ThrottledError for when to retry.
	ErrThrottled = errors.New("profile: too many attempts, try later")
	// ErrBusy: every password-hashing slot is taken (Options.HashSlots); try again in a moment. It comes as a
	// *ThrottledError (so errors.Is(err, ErrThrottled) holds too) saying when.
	ErrBusy = errors.New("profile: busy, try again in a moment")
	// ErrInvalidCredentials: wrong login or password (one error for both).
	ErrInvalidCredentials = errors.New("profile: invalid login or password")
	// ErrUnauthenticated: no valid session or API key.
	ErrUnauthenticated = errors.New("profile: not authenticated")
	// ErrForbidden: authenticated, but not allowed (disabled officer, missing scope).
	ErrForbidden = errors.New("profile: not allowed")
	// ErrTransition: the status change is not allowed from the current status (see CanTransition).
	ErrTransition = errors.New("profile: status change not allowed")
	// ErrNotActive: the profile is not active (signing and extension need an active profile).
	ErrNotActive = errors.New("profile: profile is not active")
	// ErrApplicationExpired: the application is older than the confirmation period (14 days).
	ErrApplicationExpired = errors.New("profile: application expired")
	// ErrContactUnconfirmed: the contact channel was not confirmed with its code yet.
	ErrContactUnconfirmed = errors.New("profile: contact not confirmed")
	// ErrAssertion: an identity-provider assertion or a qualified-signature confirmation was not accepted.
	ErrAssertion = errors.New("profile: confirmation evidence not accepted")
	// ErrDelivery: the change was made but the message could not be delivered (the holder may ask again).
	ErrDelivery = errors.New("profile: message could not be delivered")
)

// ValidationError names the field that breaks a rule. errors.Is(err, ErrInvalid) holds for it.
type ValidationError struct {
	Field string
	// Reason is a fixed, client-safe sentence.
	Reason string
}

func (e *ValidationError) Error() string { return "profile: invalid " + e.Field + ": " + e.Reason }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalidField(field, reason string) error { return &ValidationError{Field: field, Reason: reason} }

// ThrottledError says when to try again. errors.Is(err, ErrThrottled) holds for it.
type ThrottledError struct {
	RetryAfter time.Duration
	// What is "login", "code-issue", "code-entry" or "busy" (no hashing slot free: errors.Is(err, ErrBusy)).
	What string
}

const whatBusy = "busy"

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("profile: too many attempts (%s), retry after %s", e.What, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrThrottled) true, and errors.Is(err, ErrBusy) when What is "busy".
func (e *ThrottledError) Is(target error) bool {
	return target == ErrThrottled || (target == ErrBusy && e.What == whatBusy)
}

func throttled(what string, d time.Duration) error {
	if d < time.Second {
		d = time.Second
	}
	return &ThrottledError{RetryAfter: d, What: what}
}
