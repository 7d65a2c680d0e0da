import openstack

openstack.enable_logging(True)
conn = openstack.connect(cloud='otc')


tracker_name_or_id = "system"
tracker = conn.cts.get_tracker(tracker_name_or_id)
print(tracker)
