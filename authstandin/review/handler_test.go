package review_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"

	"github.com/dsenv/dsenv/authstandin/review"
)

const (
	protoCT   = "application/vnd.kubernetes.protobuf"
	jsonCT    = "application/json"
	gatewaySA = "system:serviceaccount:dsenv:gateway"
	deniedSA  = "system:serviceaccount:dsenv:denied"
)

// secrets are every token a test sends: none may appear in the log.
var secrets = []string{"tok-allowed-3f9a", "tok-denied-77c1", "tok-person-01", "tok-unknown-5e2d", "tok-in-a-broken-body"}

// protoSerializer is apimachinery's own protobuf serializer, the one client-go encodes with.
func protoSerializer(t testing.TB) *protobuf.Serializer {
	t.Helper()
	s := runtime.NewScheme()
	require.NoError(t, authnv1.AddToScheme(s))
	require.NoError(t, authzv1.AddToScheme(s))
	return protobuf.NewSerializer(s, s)
}

// protoBody encodes obj as client-go sends it: "k8s\x00" + runtime.Unknown{TypeMeta, Raw}.
func protoBody(t testing.TB, obj runtime.Object) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, protoSerializer(t).Encode(obj, &b))
	require.True(t, bytes.HasPrefix(b.Bytes(), []byte("k8s\x00")))
	return b.Bytes()
}

// handWrappedBody builds the same envelope from the typed message's own Marshal().
func handWrappedBody(t *testing.T, apiVersion, kind string, msg interface{ Marshal() ([]byte, error) }) []byte {
	t.Helper()
	raw, err := msg.Marshal()
	require.NoError(t, err)
	unk := runtime.Unknown{TypeMeta: runtime.TypeMeta{APIVersion: apiVersion, Kind: kind}, Raw: raw}
	env, err := unk.Marshal()
	require.NoError(t, err)
	return append([]byte("k8s\x00"), env...)
}

func jsonBody(t *testing.T, obj any) []byte {
	t.Helper()
	b, err := json.Marshal(obj)
	require.NoError(t, err)
	return b
}

func tokenReview(token string) *authnv1.TokenReview {
	return &authnv1.TokenReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "authentication.k8s.io/v1", Kind: "TokenReview"},
		Spec:     authnv1.TokenReviewSpec{Token: token},
	}
}

// accessReview is the check the real DS makes: no groups, the DS's own Service.
func accessReview(user, namespace, verb string) *authzv1.SubjectAccessReview {
	return &authzv1.SubjectAccessReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "authorization.k8s.io/v1", Kind: "SubjectAccessReview"},
		Spec: authzv1.SubjectAccessReviewSpec{
			User: user,
			ResourceAttributes: &authzv1.ResourceAttributes{
				Namespace: namespace, Group: "", Resource: "services", Name: "data-storage-service", Verb: verb,
			},
		},
	}
}

type fixture struct {
	srv *review.Server
	log *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	var log bytes.Buffer
	srv, err := review.NewServer(mustPolicy(t), slog.New(slog.NewJSONHandler(&log, nil)))
	require.NoError(t, err)
	t.Cleanup(func() {
		for _, s := range secrets {
			assert.NotContains(t, log.String(), s, "the log must never hold a token")
		}
	})
	return &fixture{srv: srv, log: &log}
}

func (f *fixture) do(t *testing.T, method, path, contentType string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

func decodeInto[T any](t *testing.T, rec *httptest.ResponseRecorder) *T {
	t.Helper()
	assert.Equal(t, jsonCT, rec.Header().Get("Content-Type"))
	v := new(T)
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), v), rec.Body.String())
	return v
}

func TestProtobufBodiesAreWhatClientGoSends(t *testing.T) {
	tr := tokenReview("tok-allowed-3f9a")
	assert.Equal(t, protoBody(t, tr), handWrappedBody(t, "authentication.k8s.io/v1", "TokenReview", tr),
		"the serializer's envelope is k8s\\x00 + Unknown{TypeMeta, Raw: Marshal()}")
	sar := accessReview(gatewaySA, "dsenv", "create")
	assert.Equal(t, protoBody(t, sar), handWrappedBody(t, "authorization.k8s.io/v1", "SubjectAccessReview", sar))
}

func TestTokenReview(t *testing.T) {
	tests := []struct {
		name          string
		token         string
		authenticated bool
		username      string
		groups        []string
	}{
		{"the environment's token", "tok-allowed-3f9a", true, gatewaySA, []string{"system:serviceaccounts", "system:serviceaccounts:dsenv", "system:authenticated"}},
		{"the denied token still authenticates", "tok-denied-77c1", true, deniedSA, []string{"system:serviceaccounts", "system:serviceaccounts:dsenv", "system:authenticated"}},
		{"a user with its own groups", "tok-person-01", true, "alice", []string{"developers"}},
		{"any other token", "tok-unknown-5e2d", false, "", nil},
	}
	encodings := map[string]func(*testing.T, runtime.Object) []byte{
		protoCT: func(t *testing.T, o runtime.Object) []byte { return protoBody(t, o) },
		jsonCT:  func(t *testing.T, o runtime.Object) []byte { return jsonBody(t, o) },
	}
	for _, tt := range tests {
		for ct, encode := range encodings {
			t.Run(tt.name+"/"+ct, func(t *testing.T) {
				f := newFixture(t)
				rec := f.do(t, http.MethodPost, review.TokenReviewPath, ct, encode(t, tokenReview(tt.token)))
				require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
				got := decodeInto[authnv1.TokenReview](t, rec)
				assert.Equal(t, "authentication.k8s.io/v1", got.APIVersion)
				assert.Equal(t, "TokenReview", got.Kind)
				assert.Equal(t, tt.authenticated, got.Status.Authenticated)
				assert.Equal(t, tt.username, got.Status.User.Username)
				assert.Equal(t, tt.groups, got.Status.User.Groups)
				if tt.authenticated {
					assert.Empty(t, got.Status.Error)
				} else {
					assert.Contains(t, got.Status.Error, "invalid bearer token")
				}
				assert.Empty(t, got.Spec.Token, "the answer does not carry the token back")
				assert.NotContains(t, rec.Body.String(), tt.token)

				line := f.log.String()
				assert.Contains(t, line, `"msg":"token review"`)
				assert.Contains(t, line, `"authenticated":`+map[bool]string{true: "true", false: "false"}[tt.authenticated])
				if tt.authenticated {
					assert.Contains(t, line, tt.username)
				}
			})
		}
	}
}

func TestSubjectAccessReview(t *testing.T) {
	tests := []struct {
		name    string
		review  *authzv1.SubjectAccessReview
		allowed bool
		reason  string
	}{
		{"allowed create", accessReview(gatewaySA, "dsenv", "create"), true, "grants"},
		{"allowed get", accessReview(gatewaySA, "dsenv", "get"), true, "grants"},
		{"denied identity", accessReview(deniedSA, "dsenv", "create"), false, "denied every access check"},
		{"unknown user", accessReview("system:serviceaccount:dsenv:ghost", "dsenv", "get"), false, "not in the stand-in's tokens file"},
		{"another namespace", accessReview(gatewaySA, "default", "get"), false, "namespace"},
		{"non-resource URL", &authzv1.SubjectAccessReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "authorization.k8s.io/v1", Kind: "SubjectAccessReview"},
			Spec: authzv1.SubjectAccessReviewSpec{User: gatewaySA,
				NonResourceAttributes: &authzv1.NonResourceAttributes{Path: "/healthz", Verb: "get"}},
		}, false, "non-resource"},
	}
	for _, tt := range tests {
		for _, ct := range []string{protoCT, jsonCT} {
			t.Run(tt.name+"/"+ct, func(t *testing.T) {
				f := newFixture(t)
				body := jsonBody(t, tt.review)
				if ct == protoCT {
					body = protoBody(t, tt.review)
				}
				rec := f.do(t, http.MethodPost, review.AccessReviewPath, ct, body)
				require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
				got := decodeInto[authzv1.SubjectAccessReview](t, rec)
				assert.Equal(t, "authorization.k8s.io/v1", got.APIVersion)
				assert.Equal(t, "SubjectAccessReview", got.Kind)
				assert.Equal(t, tt.review.Spec, got.Spec, "the spec comes back as sent")
				assert.Equal(t, tt.allowed, got.Status.Allowed)
				assert.Contains(t, got.Status.Reason, tt.reason)

				line := f.log.String()
				assert.Contains(t, line, `"msg":"access review"`)
				assert.Contains(t, line, `"user":"`+tt.review.Spec.User+`"`)
				assert.Contains(t, line, `"decision":"`+map[bool]string{true: "allow", false: "deny"}[tt.allowed]+`"`)
				if ra := tt.review.Spec.ResourceAttributes; ra != nil {
					assert.Contains(t, line, `"verb":"`+ra.Verb+`"`)
					assert.Contains(t, line, `"resource":"services"`)
				}
			})
		}
	}
}

func TestJSONBodyMayLeaveOutAPIVersionAndKind(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, http.MethodPost, review.TokenReviewPath, "", []byte(`{"spec":{"token":"tok-allowed-3f9a"}}`))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	got := decodeInto[authnv1.TokenReview](t, rec)
	assert.True(t, got.Status.Authenticated)
	assert.Equal(t, "TokenReview", got.Kind)
}

func TestBadRequestsAnswerAKubernetesStatus(t *testing.T) {
	sarProto := protoBody(t, accessReview(gatewaySA, "dsenv", "get"))
	trProto := protoBody(t, tokenReview("tok-allowed-3f9a"))
	tests := []struct {
		name, method, path, ct string
		body                   []byte
		code                   int
		reason                 metav1.StatusReason
	}{
		{"broken JSON holding a token", http.MethodPost, review.TokenReviewPath, jsonCT, []byte(`{"spec":{"token":"tok-in-a-broken-body"`), 400, metav1.StatusReasonBadRequest},
		{"JSON of the wrong type", http.MethodPost, review.TokenReviewPath, jsonCT, []byte(`{"spec":{"token":42}}`), 400, metav1.StatusReasonBadRequest},
		{"empty body", http.MethodPost, review.TokenReviewPath, jsonCT, nil, 400, metav1.StatusReasonBadRequest},
		{"empty protobuf body", http.MethodPost, review.TokenReviewPath, protoCT, nil, 400, metav1.StatusReasonBadRequest},
		{"protobuf without the magic", http.MethodPost, review.TokenReviewPath, protoCT, trProto[4:], 400, metav1.StatusReasonBadRequest},
		{"truncated protobuf", http.MethodPost, review.TokenReviewPath, protoCT, trProto[:len(trProto)-5], 400, metav1.StatusReasonBadRequest},
		{"JSON sent as protobuf", http.MethodPost, review.TokenReviewPath, protoCT, []byte(`{"spec":{"token":"tok-in-a-broken-body"}}`), 400, metav1.StatusReasonBadRequest},
		{"a SubjectAccessReview sent to tokenreviews", http.MethodPost, review.TokenReviewPath, protoCT, sarProto, 400, metav1.StatusReasonBadRequest},
		{"a TokenReview sent to subjectaccessreviews", http.MethodPost, review.AccessReviewPath, protoCT, trProto, 400, metav1.StatusReasonBadRequest},
		{"an unknown version", http.MethodPost, review.TokenReviewPath, jsonCT, []byte(`{"apiVersion":"authentication.k8s.io/v1beta1","kind":"TokenReview","spec":{"token":"x"}}`), 400, metav1.StatusReasonBadRequest},
		{"no token", http.MethodPost, review.TokenReviewPath, jsonCT, []byte(`{"spec":{}}`), 400, metav1.StatusReasonBadRequest},
		{"a review with no attributes", http.MethodPost, review.AccessReviewPath, jsonCT, []byte(`{"spec":{"user":"u"}}`), 422, metav1.StatusReasonInvalid},
		{"a review with no user", http.MethodPost, review.AccessReviewPath, jsonCT, []byte(`{"spec":{"resourceAttributes":{"verb":"get"}}}`), 422, metav1.StatusReasonInvalid},
		{"an unsupported media type", http.MethodPost, review.TokenReviewPath, "text/plain", []byte(`x`), 415, metav1.StatusReasonUnsupportedMediaType},
		{"a body over the limit", http.MethodPost, review.TokenReviewPath, jsonCT, bytes.Repeat([]byte(" "), review.MaxBodyBytes+1), 413, metav1.StatusReasonRequestEntityTooLarge},
		{"GET on a review", http.MethodGet, review.TokenReviewPath, "", nil, 405, metav1.StatusReasonMethodNotAllowed},
		{"POST on healthz", http.MethodPost, review.HealthzPath, jsonCT, nil, 405, metav1.StatusReasonMethodNotAllowed},
		{"an unknown path", http.MethodPost, "/apis/authentication.k8s.io/v1beta1/tokenreviews", jsonCT, nil, 404, metav1.StatusReasonNotFound},
		{"the root", http.MethodGet, "/", "", nil, 404, metav1.StatusReasonNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			rec := f.do(t, tt.method, tt.path, tt.ct, tt.body)
			require.Equal(t, tt.code, rec.Code, rec.Body.String())
			st := decodeInto[metav1.Status](t, rec)
			assert.Equal(t, "Status", st.Kind)
			assert.Equal(t, "v1", st.APIVersion)
			assert.Equal(t, metav1.StatusFailure, st.Status)
			assert.Equal(t, int32(tt.code), st.Code)
			assert.Equal(t, tt.reason, st.Reason)
			assert.NotEmpty(t, st.Message)
			if tt.code == http.StatusMethodNotAllowed {
				assert.NotEmpty(t, rec.Header().Values("Allow"))
			}
		})
	}
}

func TestHealthAndReadiness(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{review.HealthzPath, review.ReadyzPath} {
		rec := f.do(t, http.MethodGet, p, "", nil)
		assert.Equal(t, http.StatusOK, rec.Code, p)
	}
	f.srv.Drain()
	assert.Equal(t, http.StatusServiceUnavailable, f.do(t, http.MethodGet, review.ReadyzPath, "", nil).Code, "draining: not ready")
	assert.Equal(t, http.StatusOK, f.do(t, http.MethodGet, review.HealthzPath, "", nil).Code, "draining: still alive")
}

// TestOverHTTP drives the handler through a real HTTP server the way the DS's client does:
// protobuf in, JSON accepted back, the four calls of one batch POST.
func TestOverHTTP(t *testing.T) {
	f := newFixture(t)
	ts := httptest.NewServer(f.srv)
	t.Cleanup(ts.Close)

	post := func(path string, body []byte) (*http.Response, []byte) {
		req, err := http.NewRequest(http.MethodPost, ts.URL+path, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", protoCT)
		req.Header.Set("Accept", protoCT+","+jsonCT)
		resp, err := ts.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, b
	}

	for _, verb := range []string{"get", "create"} {
		resp, b := post(review.TokenReviewPath, protoBody(t, tokenReview("tok-allowed-3f9a")))
		require.Equal(t, http.StatusCreated, resp.StatusCode, string(b))
		assert.Equal(t, jsonCT, resp.Header.Get("Content-Type"))
		var tr authnv1.TokenReview
		require.NoError(t, json.Unmarshal(b, &tr))
		require.True(t, tr.Status.Authenticated)

		resp, b = post(review.AccessReviewPath, protoBody(t, accessReview(tr.Status.User.Username, "dsenv", verb)))
		require.Equal(t, http.StatusCreated, resp.StatusCode, string(b))
		var sar authzv1.SubjectAccessReview
		require.NoError(t, json.Unmarshal(b, &sar))
		assert.True(t, sar.Status.Allowed, verb)
	}

	resp, b := post(review.AccessReviewPath, protoBody(t, accessReview(deniedSA, "dsenv", "create")))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Contains(t, string(b), `"allowed":false`)

	assert.Equal(t, 4+1, strings.Count(f.log.String(), "review\""), "one log line per review")
}
