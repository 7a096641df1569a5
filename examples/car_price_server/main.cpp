// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
//
// car_price_server: the car-price API over HTTP/1.1 (Boost.Beast), with
// options to behave like a real, imperfect API. See README.md beside it for
// the API contract and the options; `car_price_server --help` lists them.
#include "server.hpp"

#include <csignal>
#include <cstdio>
#include <fstream>

using namespace car_price::server_impl;

int main(int argc, char** argv)
{
  example_cli::program() = "car_price_server";
  try
  {
    server s(parse_options(argc, argv));
    asio::io_context io(1);
    if (!s.opt.tls_cert.empty())
    {
      s.tls.emplace(ssl::context::tls_server);
      s.tls->use_certificate_chain_file(s.opt.tls_cert);
      s.tls->use_private_key_file(s.opt.tls_key, ssl::context::pem);
    }
    tcp::endpoint endpoint(asio::ip::make_address(s.opt.address), s.opt.port);
    tcp::acceptor acceptor(io);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    const auto port = acceptor.local_endpoint().port();
    if (!s.opt.port_file.empty())
    {
      // Written then renamed, so that a reader never sees a partial file.
      const std::string tmp = s.opt.port_file + ".tmp";
      std::ofstream(tmp) << port << '\n';
      std::rename(tmp.c_str(), s.opt.port_file.c_str());
    }
    std::printf("car_price_server: listening on %s://%s:%u\n", s.tls ? "https" : "http",
                s.opt.address.c_str(), static_cast<unsigned>(port));
    std::fflush(stdout);

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) {
      acceptor.close();
      io.stop();
    });
    asio::co_spawn(io, listen(s, acceptor), asio::detached);
    io.run();
    std::printf("car_price_server: stopped after %llu requests\n",
                static_cast<unsigned long long>(s.stats.requests));
    return 0;
  }
  catch (const std::exception& e)
  {
    std::fprintf(stderr, "car_price_server: %s\n", e.what());
    return 1;
  }
}
