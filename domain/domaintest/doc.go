// Package domaintest helps tests use CometChat's documented webhook payloads
// (the fixtures in ../shared/fixtures beside the repository) and build
// realistic webhook bodies.
package domaintest
