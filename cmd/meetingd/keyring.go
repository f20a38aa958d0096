package main

import (
	"fmt"

	"github.com/meetingd/meetingd/privacy"
	"github.com/meetingd/meetingd/privacy/envelope"
)

// openKeyring opens the keyring of the data subjects' keys, DataDir/keys.ring
// (created on first use), and the envelope that seals and opens the
// personal data of the log with it (PRIVACY.md).
func openKeyring(cfg config) (*privacy.Embedded, *envelope.Envelope, error) {
	ring, err := privacy.OpenEmbedded(cfg.DataDir)
	if err != nil {
		return nil, nil, fmt.Errorf("open the keyring in %s: %w", cfg.DataDir, err)
	}
	return ring, envelope.New(ring), nil
}
