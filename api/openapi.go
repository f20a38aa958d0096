package api

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// openAPIDoc is the OpenAPI 3 description of the whole HTTP surface. The
// tests validate it, compare its operations with the registered routes in
// both directions, and validate real answers against its schemas: a route or
// a field added without documenting it fails them.
//
//go:embed openapi.json
var openAPIDoc []byte

func serveOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(openAPIDoc)
}
