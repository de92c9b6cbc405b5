"""In-memory tests of the Twisted/Autobahn adapters. txaio is pointed at Twisted here, before
any module of this package imports Autobahn's Twisted side."""

from ...conftest import use_txaio

use_txaio("twisted")
