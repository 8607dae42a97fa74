package review

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Paths the stand-in answers.
const (
	TokenReviewPath  = "/apis/authentication.k8s.io/v1/tokenreviews"
	AccessReviewPath = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
	HealthzPath      = "/healthz"
	ReadyzPath       = "/readyz"
)

// MaxBodyBytes bounds a review body (a review is a few hundred bytes).
const MaxBodyBytes = 1 << 20

var (
	tokenReviews  = schema.GroupResource{Group: authnv1.GroupName, Resource: "tokenreviews"}
	accessReviews = schema.GroupResource{Group: authzv1.GroupName, Resource: "subjectaccessreviews"}
)

// Server is the stand-in's HTTP handler.
type Server struct {
	policy   *Policy
	log      *slog.Logger
	codec    *codec
	draining atomic.Bool
}

// NewServer returns the handler for policy, logging one line per review to log.
func NewServer(policy *Policy, log *slog.Logger) (*Server, error) {
	if policy == nil {
		return nil, errors.New("review: nil policy")
	}
	c, err := newCodec()
	if err != nil {
		return nil, err
	}
	return &Server{policy: policy, log: log, codec: c}, nil
}

// Drain turns /readyz to 503 (the process is stopping); reviews are still answered.
func (s *Server) Drain() { s.draining.Store(true) }

// ServeHTTP routes by exact path; every error answer is a Kubernetes Status object.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case TokenReviewPath:
		if s.method(w, r, tokenReviews, http.MethodPost) {
			s.tokenReview(w, r)
		}
	case AccessReviewPath:
		if s.method(w, r, accessReviews, http.MethodPost) {
			s.accessReview(w, r)
		}
	case HealthzPath:
		if s.method(w, r, schema.GroupResource{}, http.MethodGet, http.MethodHead) {
			writePlain(w, http.StatusOK, "ok")
		}
	case ReadyzPath:
		if !s.method(w, r, schema.GroupResource{}, http.MethodGet, http.MethodHead) {
			return
		}
		if s.draining.Load() {
			writePlain(w, http.StatusServiceUnavailable, "shutting down")
			return
		}
		writePlain(w, http.StatusOK, "ok")
	default:
		writeStatus(w, &apierrors.StatusError{ErrStatus: metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    http.StatusNotFound,
			Reason:  metav1.StatusReasonNotFound,
			Message: fmt.Sprintf("the server could not find the requested resource %q (this stand-in serves %s and %s)", r.URL.Path, TokenReviewPath, AccessReviewPath),
		}})
	}
}

// method answers 405 (with Allow) unless r's method is one of allowed.
func (s *Server) method(w http.ResponseWriter, r *http.Request, gr schema.GroupResource, allowed ...string) bool {
	for _, m := range allowed {
		if r.Method == m {
			return true
		}
	}
	for _, m := range allowed {
		w.Header().Add("Allow", m)
	}
	writeStatus(w, apierrors.NewMethodNotSupported(gr, r.Method))
	return false
}

// body reads r's body and picks its decoder, or answers 400/413/415 and returns ok=false.
func (s *Server) body(w http.ResponseWriter, r *http.Request, path string) (format string, b []byte, ok bool) {
	format, err := formatOf(r.Header.Get("Content-Type"))
	if err != nil {
		s.bad(w, path, format, unsupportedMediaType(err.Error()))
		return "", nil, false
	}
	b, err = io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.bad(w, path, format, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d bytes", MaxBodyBytes)))
		} else {
			s.bad(w, path, format, apierrors.NewBadRequest("reading the body: "+err.Error()))
		}
		return "", nil, false
	}
	return format, b, true
}

func (s *Server) tokenReview(w http.ResponseWriter, r *http.Request) {
	format, body, ok := s.body(w, r, TokenReviewPath)
	if !ok {
		return
	}
	tr, err := s.codec.tokenReview(format, body)
	if err != nil {
		s.bad(w, TokenReviewPath, format, apierrors.NewBadRequest("decoding the TokenReview: "+err.Error()))
		return
	}
	if tr.Spec.Token == "" {
		// What the API server answers too.
		s.bad(w, TokenReviewPath, format, apierrors.NewBadRequest("token is required for TokenReview in authentication"))
		return
	}
	id, known := s.policy.Authenticate(tr.Spec.Token)
	tr.Spec.Token = "" // the answer never carries the token back
	tr.TypeMeta = metav1.TypeMeta{APIVersion: tokenReviewGVK.GroupVersion().String(), Kind: tokenReviewGVK.Kind}
	if known {
		tr.Status = authnv1.TokenReviewStatus{
			Authenticated: true,
			User:          authnv1.UserInfo{Username: id.Username, Groups: id.Groups},
			Audiences:     tr.Spec.Audiences,
		}
	} else {
		tr.Status = authnv1.TokenReviewStatus{Authenticated: false, Error: "invalid bearer token: not in the stand-in's tokens file"}
	}
	attrs := []any{"format", format, "authenticated", known}
	if known {
		attrs = append(attrs, "user", id.Username, "groups", id.Groups)
	}
	s.log.Info("token review", attrs...)
	writeJSON(w, http.StatusCreated, tr)
}

func (s *Server) accessReview(w http.ResponseWriter, r *http.Request) {
	format, body, ok := s.body(w, r, AccessReviewPath)
	if !ok {
		return
	}
	sar, err := s.codec.accessReview(format, body)
	if err != nil {
		s.bad(w, AccessReviewPath, format, apierrors.NewBadRequest("decoding the SubjectAccessReview: "+err.Error()))
		return
	}
	if errs := validateAccessReview(&sar.Spec); len(errs) > 0 {
		s.bad(w, AccessReviewPath, format, apierrors.NewInvalid(accessReviewGVK.GroupKind(), "", errs))
		return
	}
	sar.TypeMeta = metav1.TypeMeta{APIVersion: accessReviewGVK.GroupVersion().String(), Kind: accessReviewGVK.Kind}
	attrs := []any{"format", format, "user", sar.Spec.User}
	var allowed bool
	var reason string
	if ra := sar.Spec.ResourceAttributes; ra != nil {
		a := Access{Namespace: ra.Namespace, Group: ra.Group, Resource: ra.Resource, Subresource: ra.Subresource, Name: ra.Name, Verb: ra.Verb}
		allowed, reason = s.policy.Authorize(sar.Spec.User, a)
		attrs = append(attrs, "verb", a.Verb, "namespace", a.Namespace, "resource", resourceString(a), "name", a.Name)
	} else {
		na := sar.Spec.NonResourceAttributes
		reason = "non-resource URLs are never granted"
		attrs = append(attrs, "verb", na.Verb, "path", na.Path)
	}
	sar.Status = authzv1.SubjectAccessReviewStatus{Allowed: allowed, Reason: reason}
	decision := "deny"
	if allowed {
		decision = "allow"
	}
	s.log.Info("access review", append(attrs, "decision", decision, "reason", reason)...)
	writeJSON(w, http.StatusCreated, sar)
}

// validateAccessReview is the API server's own check of a SubjectAccessReview spec.
func validateAccessReview(spec *authzv1.SubjectAccessReviewSpec) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec")
	if (spec.ResourceAttributes == nil) == (spec.NonResourceAttributes == nil) {
		errs = append(errs, field.Invalid(p.Child("resourceAttributes"), spec.ResourceAttributes, "exactly one of nonResourceAttributes or resourceAttributes must be specified"))
	}
	if spec.User == "" && len(spec.Groups) == 0 {
		errs = append(errs, field.Invalid(p.Child("user"), spec.User, "at least one of user or group must be specified"))
	}
	return errs
}

// bad logs a refused request (never its body) and answers err's Status.
func (s *Server) bad(w http.ResponseWriter, path, format string, err *apierrors.StatusError) {
	s.log.Warn("refused request", "path", path, "format", format, "code", err.ErrStatus.Code, "reason", string(err.ErrStatus.Reason))
	writeStatus(w, err)
}

func unsupportedMediaType(msg string) *apierrors.StatusError {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusUnsupportedMediaType,
		Reason:  metav1.StatusReasonUnsupportedMediaType,
		Message: msg,
	}}
}

func writeStatus(w http.ResponseWriter, err *apierrors.StatusError) {
	st := err.ErrStatus
	st.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}
	writeJSON(w, int(st.Code), &st)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","code":500}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ContentTypeJSON)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

func writePlain(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, msg+"\n")
}
