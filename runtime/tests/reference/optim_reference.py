#!/usr/bin/env python3
"""Reference trajectories for symgrad's optimizers, computed independently of the Rust code.

Each optimizer below is a literal transcription of the pseudo-code in PyTorch's `torch.optim`
documentation (SGD, Adam, AdamW, RMSprop, Adagrad), and of Keras's Adam source for the
`Adam::keras` rule, on one scalar parameter. Plain Python floats are IEEE doubles, so no NumPy is
needed. The objective is seed 003's f(x) = (x - 50)^2, gradient 2(x - 50), from x = 3.

Run `python3 runtime/tests/reference/optim_reference.py` and paste the printed Rust constants into
`runtime/tests/optim_reference.rs`. Values are printed with `repr`, the shortest decimal that
round-trips the f64 exactly (at most 17 significant digits).
"""


def grad(x):
    return 2.0 * (x - 50.0)


class SGD:
    """torch.optim.SGD docs pseudo-code."""

    def __init__(self, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        self.lr, self.mu, self.tau, self.wd, self.nesterov = lr, momentum, dampening, weight_decay, nesterov
        self.t = 0
        self.b = None

    def step(self, theta, g):
        self.t += 1
        if self.wd != 0:
            g = g + self.wd * theta
        if self.mu != 0:
            if self.t > 1:
                self.b = self.mu * self.b + (1 - self.tau) * g
            else:
                self.b = g
            if self.nesterov:
                g = g + self.mu * self.b
            else:
                g = self.b
        return theta - self.lr * g


class Adam:
    """torch.optim.Adam docs pseudo-code (maximize = False)."""

    def __init__(self, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        self.lr, (self.b1, self.b2), self.eps, self.wd, self.amsgrad = lr, betas, eps, weight_decay, amsgrad
        self.t = 0
        self.m = self.v = self.v_max = 0.0

    def step(self, theta, g):
        self.t += 1
        t = self.t
        if self.wd != 0:
            g = g + self.wd * theta
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        m_hat = self.m / (1 - self.b1 ** t)
        if self.amsgrad:
            self.v_max = max(self.v_max, self.v)
            v_hat = self.v_max / (1 - self.b2 ** t)
        else:
            v_hat = self.v / (1 - self.b2 ** t)
        return theta - self.lr * m_hat / (v_hat ** 0.5 + self.eps)


class AdamW:
    """torch.optim.AdamW docs pseudo-code (maximize = False)."""

    def __init__(self, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        self.lr, (self.b1, self.b2), self.eps, self.wd, self.amsgrad = lr, betas, eps, weight_decay, amsgrad
        self.t = 0
        self.m = self.v = self.v_max = 0.0

    def step(self, theta, g):
        self.t += 1
        t = self.t
        theta = theta - self.lr * self.wd * theta
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        m_hat = self.m / (1 - self.b1 ** t)
        if self.amsgrad:
            self.v_max = max(self.v_max, self.v)
            v_hat = self.v_max / (1 - self.b2 ** t)
        else:
            v_hat = self.v / (1 - self.b2 ** t)
        return theta - self.lr * m_hat / (v_hat ** 0.5 + self.eps)


class RMSprop:
    """torch.optim.RMSprop docs pseudo-code."""

    def __init__(self, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        self.lr, self.alpha, self.eps, self.wd, self.mu, self.centered = lr, alpha, eps, weight_decay, momentum, centered
        self.v = self.g_ave = self.b = 0.0

    def step(self, theta, g):
        if self.wd != 0:
            g = g + self.wd * theta
        self.v = self.alpha * self.v + (1 - self.alpha) * g * g
        v_tilde = self.v
        if self.centered:
            self.g_ave = self.g_ave * self.alpha + (1 - self.alpha) * g
            v_tilde = v_tilde - self.g_ave * self.g_ave
        if self.mu > 0:
            self.b = self.mu * self.b + g / (v_tilde ** 0.5 + self.eps)
            return theta - self.lr * self.b
        return theta - self.lr * g / (v_tilde ** 0.5 + self.eps)


class Adagrad:
    """torch.optim.Adagrad docs pseudo-code."""

    def __init__(self, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        self.lr, self.eta, self.wd, self.eps = lr, lr_decay, weight_decay, eps
        self.state_sum = initial_accumulator_value
        self.t = 0

    def step(self, theta, g):
        self.t += 1
        lr_tilde = self.lr / (1 + (self.t - 1) * self.eta)
        if self.wd != 0:
            g = g + self.wd * theta
        self.state_sum = self.state_sum + g * g
        return theta - lr_tilde * g / (self.state_sum ** 0.5 + self.eps)


class KerasAdam:
    """keras.optimizers.Adam.update_step (Keras 3 source), epsilon = 1e-7 by default."""

    def __init__(self, learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
        self.lr, self.b1, self.b2, self.eps, self.amsgrad = learning_rate, beta_1, beta_2, epsilon, amsgrad
        self.iterations = 0
        self.m = self.v = self.v_hat = 0.0

    def step(self, variable, gradient):
        local_step = self.iterations + 1
        beta_1_power = self.b1 ** local_step
        beta_2_power = self.b2 ** local_step
        alpha = self.lr * (1 - beta_2_power) ** 0.5 / (1 - beta_1_power)
        self.m = self.m + (gradient - self.m) * (1 - self.b1)
        self.v = self.v + (gradient * gradient - self.v) * (1 - self.b2)
        v = self.v
        if self.amsgrad:
            self.v_hat = max(self.v_hat, self.v)
            v = self.v_hat
        self.iterations += 1
        return variable - alpha * self.m / (v ** 0.5 + self.eps)


class TorchAdamImplementation:
    """The arithmetic of torch.optim.adam._single_tensor_adam (not the docs' pseudo-code): the same
    rule, rounded differently. Only used by `cross_check`, to show the 1e-10 tolerance of the Rust
    tests absorbs such reformulations while still catching a wrong rule."""

    def __init__(self, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False):
        self.lr, (self.b1, self.b2), self.eps, self.wd = lr, betas, eps, weight_decay
        self.amsgrad, self.decoupled = amsgrad, decoupled
        self.step_t = 0
        self.exp_avg = self.exp_avg_sq = self.max_exp_avg_sq = 0.0

    def step(self, param, grad):
        self.step_t += 1
        if self.decoupled:
            param = param * (1 - self.lr * self.wd)
        elif self.wd != 0:
            grad = grad + self.wd * param
        self.exp_avg = self.exp_avg + (grad - self.exp_avg) * (1 - self.b1)  # lerp_
        self.exp_avg_sq = self.exp_avg_sq * self.b2 + (1 - self.b2) * grad * grad
        bias_correction1 = 1 - self.b1 ** self.step_t
        bias_correction2 = 1 - self.b2 ** self.step_t
        step_size = self.lr / bias_correction1
        bias_correction2_sqrt = bias_correction2 ** 0.5
        if self.amsgrad:
            self.max_exp_avg_sq = max(self.max_exp_avg_sq, self.exp_avg_sq)
            denom = self.max_exp_avg_sq ** 0.5 / bias_correction2_sqrt + self.eps
        else:
            denom = self.exp_avg_sq ** 0.5 / bias_correction2_sqrt + self.eps
        return param - step_size * self.exp_avg / denom


TORCH_CHECKPOINTS = list(range(1, 11)) + [20, 50, 100]
KERAS_CHECKPOINTS = [1, 2, 3, 4, 5, 10, 25, 50, 100, 150, 200]

CASES = [
    # (Rust constant, description, optimizer, checkpoints)
    ("SGD_PLAIN", "Sgd::new(0.1)", SGD(0.1), TORCH_CHECKPOINTS),
    ("SGD_MOMENTUM", "Sgd::new(0.01).momentum(0.9)", SGD(0.01, momentum=0.9), TORCH_CHECKPOINTS),
    ("SGD_DAMPENING", "Sgd::new(0.01).momentum(0.9).dampening(0.5)", SGD(0.01, momentum=0.9, dampening=0.5), TORCH_CHECKPOINTS),
    ("SGD_NESTEROV", "Sgd::new(0.01).momentum(0.9).nesterov(true)", SGD(0.01, momentum=0.9, nesterov=True), TORCH_CHECKPOINTS),
    ("SGD_WEIGHT_DECAY", "Sgd::new(0.01).momentum(0.5).weight_decay(0.1)", SGD(0.01, momentum=0.5, weight_decay=0.1), TORCH_CHECKPOINTS),
    ("SGD_NESTEROV_WEIGHT_DECAY", "Sgd::new(0.02).momentum(0.8).nesterov(true).weight_decay(0.05)", SGD(0.02, momentum=0.8, nesterov=True, weight_decay=0.05), TORCH_CHECKPOINTS),
    ("ADAM_DEFAULT", "Adam::new(0.1)", Adam(0.1), TORCH_CHECKPOINTS),
    ("ADAM_BETAS_EPS", "Adam::new(1.0).betas(0.8, 0.99).eps(1e-6)", Adam(1.0, betas=(0.8, 0.99), eps=1e-6), TORCH_CHECKPOINTS),
    ("ADAM_AMSGRAD", "Adam::new(0.5).betas(0.9, 0.99).amsgrad(true)", Adam(0.5, betas=(0.9, 0.99), amsgrad=True), TORCH_CHECKPOINTS),
    ("ADAM_WEIGHT_DECAY", "Adam::new(0.1).weight_decay(0.1)", Adam(0.1, weight_decay=0.1), TORCH_CHECKPOINTS),
    ("ADAM_AMSGRAD_WEIGHT_DECAY", "Adam::new(2.0).betas(0.5, 0.9).amsgrad(true).weight_decay(0.05)", Adam(2.0, betas=(0.5, 0.9), amsgrad=True, weight_decay=0.05), TORCH_CHECKPOINTS),
    ("ADAMW_DEFAULT", "AdamW::new(0.1)", AdamW(0.1), TORCH_CHECKPOINTS),
    ("ADAMW_AMSGRAD", "AdamW::new(0.5).betas(0.9, 0.99).weight_decay(0.1).amsgrad(true)", AdamW(0.5, betas=(0.9, 0.99), weight_decay=0.1, amsgrad=True), TORCH_CHECKPOINTS),
    ("ADAMW_BETAS", "AdamW::new(1.0).betas(0.5, 0.9).eps(1e-4).weight_decay(0.2)", AdamW(1.0, betas=(0.5, 0.9), eps=1e-4, weight_decay=0.2), TORCH_CHECKPOINTS),
    ("RMSPROP_DEFAULT", "RmsProp::new(0.01)", RMSprop(0.01), TORCH_CHECKPOINTS),
    ("RMSPROP_ALPHA", "RmsProp::new(0.1).alpha(0.9).eps(1e-6)", RMSprop(0.1, alpha=0.9, eps=1e-6), TORCH_CHECKPOINTS),
    ("RMSPROP_MOMENTUM", "RmsProp::new(0.01).momentum(0.9)", RMSprop(0.01, momentum=0.9), TORCH_CHECKPOINTS),
    ("RMSPROP_CENTERED", "RmsProp::new(0.01).centered(true)", RMSprop(0.01, centered=True), TORCH_CHECKPOINTS),
    ("RMSPROP_CENTERED_MOMENTUM_WEIGHT_DECAY", "RmsProp::new(0.01).alpha(0.9).centered(true).momentum(0.5).weight_decay(0.1)", RMSprop(0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1), TORCH_CHECKPOINTS),
    ("ADAGRAD_DEFAULT", "Adagrad::new(1.0)", Adagrad(1.0), TORCH_CHECKPOINTS),
    ("ADAGRAD_LR_DECAY", "Adagrad::new(2.0).lr_decay(0.1)", Adagrad(2.0, lr_decay=0.1), TORCH_CHECKPOINTS),
    ("ADAGRAD_ACCUMULATOR_WEIGHT_DECAY", "Adagrad::new(1.0).initial_accumulator_value(0.1).weight_decay(0.1).eps(1e-3)", Adagrad(1.0, initial_accumulator_value=0.1, weight_decay=0.1, eps=1e-3), TORCH_CHECKPOINTS),
    ("KERAS_ADAM_SEED_003", "Adam::keras(1.0)", KerasAdam(1.0), KERAS_CHECKPOINTS),
    ("KERAS_ADAM_SEED_000_LR", "Adam::keras(0.1)", KerasAdam(0.1), KERAS_CHECKPOINTS),
    ("KERAS_ADAM_AMSGRAD", "Adam::keras(0.5).amsgrad(true)", KerasAdam(0.5, amsgrad=True), KERAS_CHECKPOINTS),
]


def trajectory(optimizer, checkpoints, x0=3.0):
    x, out = x0, []
    for step in range(1, max(checkpoints) + 1):
        x = optimizer.step(x, grad(x))
        if step in checkpoints:
            out.append((step, x))
    return out


def cross_check():
    """Asserts the docs' pseudo-code and torch's implementation arithmetic agree to 1e-10."""
    pairs = [
        (Adam(0.1), TorchAdamImplementation(0.1)),
        (Adam(0.5, betas=(0.9, 0.99), amsgrad=True), TorchAdamImplementation(0.5, betas=(0.9, 0.99), amsgrad=True)),
        (Adam(0.1, weight_decay=0.1), TorchAdamImplementation(0.1, weight_decay=0.1)),
        (AdamW(0.1), TorchAdamImplementation(0.1, weight_decay=1e-2, decoupled=True)),
    ]
    worst = 0.0
    for docs, implementation in pairs:
        for (_, a), (_, b) in zip(trajectory(docs, TORCH_CHECKPOINTS), trajectory(implementation, TORCH_CHECKPOINTS)):
            worst = max(worst, abs(a - b) / max(1.0, abs(b)))
    assert worst < 1e-10, worst
    return worst


def main():
    worst = cross_check()
    print("// Cross-check: torch's implementation arithmetic differs from the docs' pseudo-code by at")
    print(f"// most {worst:.1e} (relative) on the Adam/AdamW cases, well inside the 1e-10 tolerance.")
    print("// Generated by runtime/tests/reference/optim_reference.py: x after step t of each")
    print("// optimizer on (x - 50)^2 from x = 3, following PyTorch's documented pseudo-code.")
    for name, description, optimizer, checkpoints in CASES:
        points = trajectory(optimizer, checkpoints)
        print(f"/// `{description}`")
        print(f"const {name}: [(u64, f64); {len(points)}] = [")
        for step, x in points:
            print(f"    ({step}, {x!r}),")
        print("];")


if __name__ == "__main__":
    main()
