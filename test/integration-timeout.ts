// Integration tests drive real processes (kube-apiserver, dockerd): allow them time.
jest.setTimeout(120_000);
