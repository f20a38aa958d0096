// Package cometchattest helps tests use CometChat's documented webhook
// payloads and Calls REST API answers (the fixtures in ../shared/fixtures
// beside the repository) and build realistic webhook bodies.
package cometchattest
