package ginkgo_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/redis/go-redis/v9"

	"github.com/dsenv/dsenv/tests/internal/gateway"
	"github.com/dsenv/dsenv/tfharness"
)

// The Gateway's audit emission, as its integration suite checks it: every spec posts
// under its own RemediationRequest (correlation id), so specs in parallel processes
// never see each other's events.
var _ = Describe("Gateway audit emission", func() {
	var c *gateway.Client
	BeforeEach(func() {
		c = gateway.New(env.DataStorage.URL, env.Token)
		recordSpec()
	})

	DescribeTable("a new signal is audited as received, then as the CRD created for it",
		func(ctx SpecContext, signal, namespace string) {
			rr := gateway.NewCorrelationID("rr-" + strconv.Itoa(GinkgoParallelProcess()))
			ids, err := c.PostBatch(ctx, []gateway.Event{
				gateway.NewEvent(gateway.SignalReceived, rr, signal, namespace, 1),
				gateway.NewEvent(gateway.CRDCreated, rr, signal, namespace, 1),
			})
			Expect(err).NotTo(HaveOccurred())
			Expect(ids).To(HaveLen(2))

			q := tfharness.EventQuery{CorrelationID: rr}
			Eventually(env.CountEvents).WithContext(ctx).WithArguments(q).Should(Equal(2))
			stored, err := c.ByCorrelationID(ctx, rr)
			Expect(err).NotTo(HaveOccurred())
			types := map[string]gateway.EventData{}
			for _, s := range stored {
				Expect(s.EventCategory).To(Equal("gateway"))
				Expect(s.EventID).To(BeElementOf(ids))
				d, err := s.Data()
				Expect(err).NotTo(HaveOccurred())
				types[s.EventType] = d
			}
			Expect(types).To(HaveKey(gateway.SignalReceived))
			Expect(types).To(HaveKey(gateway.CRDCreated))
			Expect(types[gateway.SignalReceived].SignalName).To(Equal(signal))
			Expect(types[gateway.SignalReceived].Namespace).To(Equal(namespace))
			Expect(types[gateway.CRDCreated].Fingerprint).To(Equal("fp-" + rr))
		},
		Entry("high CPU", "HighCPU", "payments"),
		Entry("high memory", "HighMemory", "payments"),
		Entry("disk full", "DiskFull", "storage"),
		Entry("crash loop", "PodCrashLooping", "checkout"),
		Entry("node not ready", "NodeNotReady", "kube-system"),
		Entry("certificate expiry", "CertificateExpiringSoon", "ingress"),
		Entry("latency", "HighRequestLatency", "frontend"),
		Entry("error rate", "HighErrorRate", "frontend"),
	)

	It("audits a repeated signal as deduplicated with its occurrence count", func(ctx SpecContext) {
		rr := gateway.NewCorrelationID("rr-dedup")
		_, err := c.PostBatch(ctx, []gateway.Event{gateway.NewEvent(gateway.SignalReceived, rr, "HighCPU", "payments", 1)})
		Expect(err).NotTo(HaveOccurred())
		for n := 2; n <= 4; n++ {
			_, err := c.PostBatch(ctx, []gateway.Event{gateway.NewEvent(gateway.SignalDeduplicated, rr, "HighCPU", "payments", n)})
			Expect(err).NotTo(HaveOccurred())
		}
		n, err := env.WaitForEvents(ctx, tfharness.EventQuery{CorrelationID: rr, EventType: gateway.SignalDeduplicated}, 3)
		Expect(err).NotTo(HaveOccurred())
		Expect(n).To(Equal(3))
		stored, err := c.ByCorrelationID(ctx, rr)
		Expect(err).NotTo(HaveOccurred())
		Expect(stored).To(HaveLen(4))
		d, err := stored[0].Data() // newest first
		Expect(err).NotTo(HaveOccurred())
		Expect(d.OccurrenceCount).To(Equal(4))
	})

	It("audits a CRD that could not be created as a failure", func(ctx SpecContext) {
		rr := gateway.NewCorrelationID("rr-fail")
		_, err := c.PostBatch(ctx, []gateway.Event{
			gateway.NewEvent(gateway.SignalReceived, rr, "DiskFull", "storage", 1),
			gateway.NewEvent(gateway.CRDFailed, rr, "DiskFull", "storage", 1),
		})
		Expect(err).NotTo(HaveOccurred())
		Eventually(env.CountEvents).WithContext(ctx).
			WithArguments(tfharness.EventQuery{CorrelationID: rr, EventOutcome: "failure"}).Should(Equal(1))
	})

	It("refuses the Gateway without a valid token, and a token without the right", func(ctx SpecContext) {
		Expect(c.Status(ctx, "/api/v1/audit/events", "")).To(Equal(http.StatusUnauthorized))
		Expect(c.Status(ctx, "/api/v1/audit/events", "not-the-token")).To(Equal(http.StatusUnauthorized))
		Expect(c.Status(ctx, "/api/v1/audit/events", env.DeniedToken)).To(Equal(http.StatusForbidden))
	})

	if os.Getenv("DSENV_GINKGO_HOLD") == "1" {
		It("holds the suite until it is interrupted", func(ctx SpecContext) {
			Expect(os.WriteFile(filepath.Join(os.Getenv("DSENV_GINKGO_OUT"), "holding"), []byte(strconv.Itoa(GinkgoParallelProcess())), 0o644)).To(Succeed())
			select {
			case <-ctx.Done():
			case <-time.After(3 * time.Minute):
			}
		})
	}
})

// Reset empties the environment under every process's feet: these specs are Serial, so
// Ginkgo runs them alone, after the parallel ones, on process 1.
var _ = Describe("Gateway audit emission from a clean slate", Serial, func() {
	var c *gateway.Client
	BeforeEach(func(ctx SpecContext) {
		c = gateway.New(env.DataStorage.URL, env.Token)
		Expect(env.Reset(ctx)).To(Succeed())
	})

	It("starts with no events at all, and counts exactly what it posts", func(ctx SpecContext) {
		Expect(env.CountEvents(ctx, tfharness.EventQuery{})).To(Equal(0))
		rr := gateway.NewCorrelationID("rr-clean")
		_, err := c.PostBatch(ctx, []gateway.Event{
			gateway.NewEvent(gateway.SignalReceived, rr, "HighCPU", "payments", 1),
			gateway.NewEvent(gateway.CRDCreated, rr, "HighCPU", "payments", 1),
		})
		Expect(err).NotTo(HaveOccurred())
		Eventually(env.CountEvents).WithContext(ctx).WithArguments(tfharness.EventQuery{}).Should(Equal(2))
		Expect(env.CountEvents(ctx, tfharness.EventQuery{EventType: gateway.CRDCreated})).To(Equal(1))
	})

	It("starts with empty dead-letter streams", func(ctx SpecContext) {
		rdb := redis.NewClient(&redis.Options{Addr: env.Redis.Addr, Password: env.Redis.Password})
		defer rdb.Close()
		for _, s := range []string{"audit:dlq:events", "audit:dead-letter:events"} {
			Expect(rdb.XLen(ctx, s).Result()).To(BeZero(), s)
		}
		Expect(env.CountEvents(ctx, tfharness.EventQuery{EventCategory: "gateway"})).To(Equal(0))
	})
})
