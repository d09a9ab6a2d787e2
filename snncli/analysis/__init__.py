"""Analysis of trained networks: metrics, Hessian spectrum, loss landscape, gradient flow."""
