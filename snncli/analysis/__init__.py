"""Analysis of trained networks: metrics, Hessian spectrum, loss landscape, gradient flow, activity.

Pure computations on models and tensors: nothing here reads or writes files or draws.
"""
