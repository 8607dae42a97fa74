package review

import (
	"fmt"
	"mime"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
)

// Media types of request bodies. client-go sends both reviews as protobuf (and never falls back
// to JSON); JSON is what a person with curl sends.
const (
	ContentTypeProtobuf = runtime.ContentTypeProtobuf // application/vnd.kubernetes.protobuf
	ContentTypeJSON     = runtime.ContentTypeJSON     // application/json
)

var (
	tokenReviewGVK  = authnv1.SchemeGroupVersion.WithKind("TokenReview")
	accessReviewGVK = authzv1.SchemeGroupVersion.WithKind("SubjectAccessReview")
)

// codec decodes review bodies with k8s.io/apimachinery's own serializers: protobuf (the "k8s\x00"
// envelope around a runtime.Unknown whose Raw is the message) and JSON.
type codec struct {
	proto *protobuf.Serializer
	json  *json.Serializer
}

func newCodec() (*codec, error) {
	scheme := runtime.NewScheme()
	if err := authnv1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("register authentication/v1: %w", err)
	}
	if err := authzv1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("register authorization/v1: %w", err)
	}
	return &codec{
		proto: protobuf.NewSerializer(scheme, scheme),
		json:  json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{}),
	}, nil
}

// formatOf returns the name of the decoder for a Content-Type header ("protobuf" or "json"). An
// absent header means JSON.
func formatOf(contentType string) (string, error) {
	if contentType == "" {
		return "json", nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("Content-Type %q: %w", contentType, err)
	}
	switch mt {
	case ContentTypeProtobuf:
		return "protobuf", nil
	case ContentTypeJSON:
		return "json", nil
	}
	return "", fmt.Errorf("Content-Type %q is not supported: send %s or %s", contentType, ContentTypeProtobuf, ContentTypeJSON)
}

func (c *codec) decoder(format string) runtime.Decoder {
	if format == "protobuf" {
		return c.proto
	}
	return c.json
}

// decode decodes body into a new T, defaulting apiVersion/kind to want when the body leaves
// them out, and refuses a body of any other kind.
func decode[T any, PT interface {
	*T
	runtime.Object
}](d runtime.Decoder, body []byte, want schema.GroupVersionKind) (PT, error) {
	into := PT(new(T))
	obj, gvk, err := d.Decode(body, &want, into)
	if err != nil {
		return nil, err
	}
	got, ok := obj.(PT)
	if !ok || *gvk != want {
		return nil, fmt.Errorf("body is a %s, not a %s", gvk.String(), want.String())
	}
	return got, nil
}

func (c *codec) tokenReview(format string, body []byte) (*authnv1.TokenReview, error) {
	return decode[authnv1.TokenReview](c.decoder(format), body, tokenReviewGVK)
}

func (c *codec) accessReview(format string, body []byte) (*authzv1.SubjectAccessReview, error) {
	return decode[authzv1.SubjectAccessReview](c.decoder(format), body, accessReviewGVK)
}
