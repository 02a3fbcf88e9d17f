module berth.dev/test/etcd

// Builds the etcd server the test control plane stores in. Debian's etcd-server (3.4) refuses
// RequestWatchProgress, which client-go's watch-list (kwok, kube-scheduler, kube-controller-manager) needs;
// without it they fall back to relisting on a backoff and see new objects seconds late.

go 1.23.0

require go.etcd.io/etcd/server/v3 v3.5.21
