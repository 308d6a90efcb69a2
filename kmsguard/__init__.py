"""kmsguard: prove Azure KMS activation reachability for Pulumi networks."""
