package review_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dsenv/dsenv/authstandin/review"
)

// FuzzReviewBodies feeds arbitrary bodies to both review endpoints in both media types: the
// handler never panics, answers one of its documented codes, and always with a JSON object.
// Run longer with: go test ./authstandin/review -run '^$' -fuzz FuzzReviewBodies -fuzztime 60s
func FuzzReviewBodies(f *testing.F) {
	f.Add([]byte(`{"spec":{"token":"tok-allowed-3f9a"}}`), false, false)
	f.Add([]byte(`{"spec":{"user":"u","resourceAttributes":{"verb":"get"}}}`), true, false)
	f.Add(protoBody(f, tokenReview("tok-allowed-3f9a")), false, true)
	f.Add(protoBody(f, accessReview(gatewaySA, "dsenv", "create")), true, true)
	f.Add([]byte("k8s\x00\x0a\x00"), false, true)

	srv, err := review.NewServer(mustPolicy(f), discardLogger())
	if err != nil {
		f.Fatal(err)
	}
	ok := map[int]bool{201: true, 400: true, 413: true, 415: true, 422: true}
	f.Fuzz(func(t *testing.T, body []byte, access, proto bool) {
		path, ct := review.TokenReviewPath, jsonCT
		if access {
			path = review.AccessReviewPath
		}
		if proto {
			ct = protoCT
		}
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if !ok[rec.Code] {
			t.Fatalf("code %d: %s", rec.Code, rec.Body.String())
		}
		var obj map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &obj); err != nil || obj["kind"] == nil {
			t.Fatalf("answer is not a Kubernetes object (%v): %s", err, rec.Body.String())
		}
	})
}

func discardLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }
