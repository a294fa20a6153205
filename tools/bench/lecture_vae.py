"""The lecture's Fashion-MNIST VAE, reproduced as written for the benchmark (TensorFlow only).

Source: ../shared/lecture/000_628384b6c7eae5d5.txt, cells In[16]-In[21]. The lecture is a
text extraction of a rendered notebook; its cells are cut at the right margin and cell 19's
train_step is printed twice, overlapping. We take the coherent reading: the second fragment
(``BETA * losses.binary_crossentropy(data, reconstruction, axis=(1, 2, 3))``, KL summed over
latent dims and averaged, ``total_loss = reconstruction_loss + kl_loss``) and complete the
cut ``tf.exp(z`` as ``tf.exp(z_log_var)`` (the lecture's summary table fixes the encoder
chain conv2d -> conv2d_1 -> conv2d_2, 100,868 parameters).

Kept as written although the course does it differently: ``call`` uses the module-level
``encoder``/``decoder``, ``train_step`` calls ``self(data)`` without ``training=True``,
``Sampling`` uses ``tf.shape``. The only change needed to run under Keras 3:

1. ``layers.Dense(np.prod(shape_before_flattening))`` -> ``int(np.prod(...))`` (Keras 3.15
   rejects a numpy integer as ``units``).

Nothing else was needed (checked: Keras 3 hands ``train_step`` the plain batch tensor when
``fit`` gets only ``x``).
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers, losses, metrics, models

IMAGE_SIZE = 32
EMBEDDING_DIM = 2
BETA = 500


class Sampling(layers.Layer):
    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = tf.shape(z_mean)[0]
        dim = tf.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim))
        return z_mean + tf.exp(0.5 * z_log_var) * epsilon


encoder = None
decoder = None


def build():
    """Builds the lecture's encoder, decoder and VAE (module globals, as in the lecture)."""
    global encoder, decoder
    encoder_input = layers.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 1), name="encoder_input")
    x = layers.Conv2D(32, (3, 3), strides=2, activation="relu", padding="same")(encoder_input)
    x = layers.Conv2D(64, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2D(128, (3, 3), strides=2, activation="relu", padding="same")(x)
    shape_before_flattening = x.shape[1:]
    x = layers.Flatten()(x)
    z_mean = layers.Dense(EMBEDDING_DIM, name="z_mean")(x)
    z_log_var = layers.Dense(EMBEDDING_DIM, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    encoder = models.Model(encoder_input, [z_mean, z_log_var, z], name="encoder")

    decoder_input = layers.Input(shape=(EMBEDDING_DIM,), name="decoder_input")
    x = layers.Dense(int(np.prod(shape_before_flattening)))(decoder_input)  # fix 1
    x = layers.Reshape(shape_before_flattening)(x)
    x = layers.Conv2DTranspose(128, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(64, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    decoder_output = layers.Conv2D(
        1, (3, 3), strides=1, activation="sigmoid", padding="same", name="decoder_output"
    )(x)
    decoder = models.Model(decoder_input, decoder_output)
    return VAE(encoder, decoder)


class VAE(models.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super(VAE, self).__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [
            self.total_loss_tracker,
            self.reconstruction_loss_tracker,
            self.kl_loss_tracker,
        ]

    def call(self, inputs):
        """Call the model on a particular input."""
        z_mean, z_log_var, z = encoder(inputs)
        reconstruction = decoder(z)
        return z_mean, z_log_var, reconstruction

    def train_step(self, data):
        """Step run during training."""
        with tf.GradientTape() as tape:
            z_mean, z_log_var, reconstruction = self(data)
            reconstruction_loss = tf.reduce_mean(
                BETA * losses.binary_crossentropy(data, reconstruction, axis=(1, 2, 3))
            )
            kl_loss = tf.reduce_mean(
                tf.reduce_sum(
                    -0.5 * (1 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var)),
                    axis=1,
                )
            )
            total_loss = reconstruction_loss + kl_loss

        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))

        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)

        return {m.name: m.result() for m in self.metrics}
