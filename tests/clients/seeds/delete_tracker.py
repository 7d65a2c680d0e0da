import openstack

openstack.enable_logging(True)
conn = openstack.connect(cloud='otc')


conn.cts.delete_tracker()
