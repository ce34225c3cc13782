package tsa

import "github.com/trustsign/trustsign/tsa/devtsa"

// Responder is devtsa.Responder, the development TSA (kept here for callers that name it tsa.Responder).
type Responder = devtsa.Responder
