// Package api is the DS HTTP API: audit event writes (single and batch), queries, bearer-token
// authentication, RFC 7807 errors, and the dead-letter fallback when PostgreSQL fails.
package api

import (
	"encoding/json"
	"net/http"
)

// ProblemTypeBase prefixes the RFC 7807 type URIs; it is the real DS's.
const ProblemTypeBase = "https://kubernaut.ai/problems/"

// Problem is an RFC 7807 problem details body.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// problemKind is the type slug and title of a status code.
func problemKind(status int) (slug, title string) {
	switch status {
	case http.StatusBadRequest:
		return "validation-error", "Validation Error"
	case http.StatusUnauthorized:
		return "unauthorized", "Unauthorized"
	case http.StatusForbidden:
		return "forbidden", "Forbidden"
	case http.StatusNotFound:
		return "not-found", "Not Found"
	case http.StatusMethodNotAllowed:
		return "method-not-allowed", "Method Not Allowed"
	case http.StatusRequestEntityTooLarge:
		return "payload-too-large", "Payload Too Large"
	case http.StatusServiceUnavailable:
		return "service-unavailable", "Service Unavailable"
	case http.StatusInternalServerError:
		return "internal-error", "Internal Server Error"
	}
	return "error", http.StatusText(status)
}

// NewProblem builds the problem for a status code.
func NewProblem(status int, detail string) Problem {
	slug, title := problemKind(status)
	return Problem{Type: ProblemTypeBase + slug, Title: title, Status: status, Detail: detail}
}

// WriteProblem writes an application/problem+json response.
func WriteProblem(w http.ResponseWriter, status int, detail string) {
	writeProblem(w, NewProblem(status, detail))
}

func writeProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
