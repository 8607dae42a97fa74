package review_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dsenv/dsenv/authstandin/review"
)

// BenchmarkAuthenticatedRequest is the stand-in's share of one DS request that checks a token:
// a protobuf TokenReview and a protobuf SubjectAccessReview, in process (no network).
func BenchmarkAuthenticatedRequest(b *testing.B) {
	srv, err := review.NewServer(mustPolicy(b), discardLogger())
	if err != nil {
		b.Fatal(err)
	}
	tr := protoBody(b, tokenReview("tok-allowed-3f9a"))
	sar := protoBody(b, accessReview(gatewaySA, "dsenv", "create"))
	do := func(path string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", protoCT)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			b.Fatalf("%s: %d", path, rec.Code)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		do(review.TokenReviewPath, tr)
		do(review.AccessReviewPath, sar)
	}
}

// BenchmarkAuthenticatedRequestOverHTTP is the same pair over loopback HTTP with keep-alive,
// the way the DS's client calls it (the network hop inside Docker adds to this).
func BenchmarkAuthenticatedRequestOverHTTP(b *testing.B) {
	srv, err := review.NewServer(mustPolicy(b), discardLogger())
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	b.Cleanup(ts.Close)
	client := ts.Client()
	tr := protoBody(b, tokenReview("tok-allowed-3f9a"))
	sar := protoBody(b, accessReview(gatewaySA, "dsenv", "create"))
	do := func(path string, body []byte) {
		resp, err := client.Post(ts.URL+path, protoCT, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		do(review.TokenReviewPath, tr)
		do(review.AccessReviewPath, sar)
	}
}
