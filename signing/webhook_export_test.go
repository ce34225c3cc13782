package signing

// WebhookAddressAllowed exposes the webhook's address check to the external tests.
var WebhookAddressAllowed = webhookAddressAllowed
