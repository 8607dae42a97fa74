package tfharness

import (
	"fmt"
	"regexp"
)

// retryRule is a known transient error: an apply failing with an error that matches
// is retried once more, and the retry is logged with why.
type retryRule struct {
	re  *regexp.Regexp
	why string
}

func newRetryRule(pattern, why string) (retryRule, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return retryRule{}, fmt.Errorf("retryable error %q: %w", pattern, err)
	}
	return retryRule{re: re, why: why}, nil
}

// defaultRetryableErrors are the transient errors retried by default, as terratest's
// RetryableTerraformErrors: regular expression -> why it is transient. Anything else
// fails at once: a retry would only hide a real problem for longer.
var defaultRetryableErrors = map[string]string{
	`(?i)timeout while waiting for plugin to start`:            "provider plugin slow to start on a busy machine",
	`(?i)timed out waiting for server handshake`:               "provider plugin slow to start on a busy machine",
	`(?i)plugin exited before we could connect`:                "provider plugin crashed while starting",
	`(?i)text file busy`:                                       "provider binary briefly locked while being linked",
	`(?i)port is already allocated`:                            "Docker handed the same free host port to two containers",
	`(?i)bind: address already in use`:                         "Docker handed the same free host port to two containers",
	`(?i)Provider produced inconsistent result after apply`:    "provider eventual consistency",
	`(?i)(connection reset by peer|broken pipe).*docker\.sock`: "Docker API connection dropped",
	`(?i)failed to (create|update) endpoint .* on network`:     "libnetwork endpoint race under parallel starts",
}

func defaultRetryable() []retryRule {
	rules := make([]retryRule, 0, len(defaultRetryableErrors))
	for p, why := range defaultRetryableErrors {
		rules = append(rules, retryRule{re: regexp.MustCompile(p), why: why})
	}
	return rules
}

// retryable returns the rule an error matches, if any.
func retryable(rules []retryRule, err error) (retryRule, bool) {
	if err == nil {
		return retryRule{}, false
	}
	msg := err.Error()
	for _, r := range rules {
		if r.re.MatchString(msg) {
			return r, true
		}
	}
	return retryRule{}, false
}
